"""Localization and faithfulness of CAM and attribution methods on held-out shapes images.

Runs each method (every CAM by default; attribution methods by name) on a bundled
classifier (`--model`, default `shapes-classifier`; targets: the true labels) at
`block4_out` and on the bundled U-Net (Seg-Grad-CAM `mask_score` targets: the labeled
class over its predicted pixels; `--no-unet` skips it), over freshly generated held-out
images, and prints a method x metric table.

Usage:

    python benchmarks/localization.py                       # 500 images per model
    python benchmarks/localization.py --model shapes-gap-classifier --no-unet \
        --json benchmarks/results/localization_cam_gap.json
    python benchmarks/localization.py --images 100 --methods grad_cam score_cam
    python benchmarks/localization.py --images 200 --methods saliency smooth_grad occlusion
    python benchmarks/localization.py --json benchmarks/results/localization.json
    python benchmarks/localization.py --side-by-side benchmarks/results/localization_cam.json \
        benchmarks/results/localization_cam_gap.json     # the two classifiers' tables, merged
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _record import write_json

from tfxai import cam, datasets, demo, metrics, models


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", default="shapes-classifier", choices=demo.CLASSIFIERS, help="classifier"
    )
    parser.add_argument("--no-unet", action="store_true", help="skip the U-Net table")
    parser.add_argument("--images", type=int, default=500, help="images per model")
    parser.add_argument("--seed", type=int, default=777, help="held-out image seed")
    parser.add_argument(
        "--methods", nargs="+", default=list(cam.METHODS), choices=list(demo.ALL_METHODS)
    )
    parser.add_argument(
        "--top-n", type=int, default=None, help="channels for Score-CAM/Ablation-CAM (default: all)"
    )
    parser.add_argument("--steps", type=int, default=24, help="deletion/insertion steps")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument(
        "--side-by-side",
        nargs=2,
        default=None,
        metavar="JSON",
        help="print the classifier tables of two --json files side by side, and exit",
    )
    return parser.parse_args(argv)


def classifier_table(name, methods, count, seed, top_n, steps):
    """`{method: {metric: mean}}` on the bundled classifier `name`."""
    model = models.load(name)
    data = datasets.make_shapes(count, seed=seed, task="classification")
    objects = demo.object_masks(data)
    table = {}
    for method in methods:
        start = time.perf_counter()
        maps = demo.explainer(method, model, demo.CLASSIFIER_LAYER, top_n)(data.images, data.labels)
        table[method] = demo.classifier_scores(model, data, maps, objects, steps)
        table[method]["seconds"] = time.perf_counter() - start
        print(f"# {name} {method}: {table[method]['seconds']:.1f} s", file=sys.stderr)
    return table


def unet_table(methods, count, seed, top_n):
    """`{method: {metric: mean}}` on the bundled U-Net with Seg-Grad-CAM targets."""
    model = models.load("shapes-unet")
    data = datasets.make_shapes(count, seed=seed, task="segmentation")
    target, truth = demo.segmentation_target(model, data)
    layer = demo.decoder_layer(model)
    table = {}
    for method in methods:
        start = time.perf_counter()
        maps = demo.explainer(method, model, layer, top_n)(data.images, target)
        table[method] = {
            "pointing_game": float(np.mean(metrics.pointing_game(maps, truth, tolerance=0))),
            "energy_pointing_game": float(np.mean(metrics.energy_pointing_game(maps, truth))),
            "iou": float(np.mean(metrics.iou(maps, truth))),
            "seconds": time.perf_counter() - start,
        }
        print(f"# unet {method}: {table[method]['seconds']:.1f} s", file=sys.stderr)
    return table


def markdown(table):
    """A method x metric Markdown table."""
    keys = [k for k in demo.METRIC_COLUMNS if k in next(iter(table.values()))]
    lines = [
        "| method | " + " | ".join(demo.METRIC_COLUMNS[k] for k in keys) + " | s |",
        "|---" * (len(keys) + 2) + "|",
    ]
    for method, row in table.items():
        lines.append(
            f"| {method} | "
            + " | ".join(f"{row[k]:.3f}" for k in keys)
            + f" | {row['seconds']:.0f} |"
        )
    return "\n".join(lines)


SIDE_BY_SIDE = ("pointing_game", "energy_pointing_game", "iou", "deletion", "insertion")


def side_by_side(first, second):
    """One Markdown table of two runs' classifier tables: `a / b` in each cell."""
    names = [run["settings"].get("model", "shapes-classifier") for run in (first, second)]
    lines = [
        f"| method ({names[0]} / {names[1]}) | "
        + " | ".join(demo.METRIC_COLUMNS[k] for k in SIDE_BY_SIDE)
        + " |",
        "|---" * (len(SIDE_BY_SIDE) + 1) + "|",
    ]
    for method, row in first["classifier"].items():
        other = second["classifier"][method]
        cells = [f"{row[k]:.3f} / {other[k]:.3f}" for k in SIDE_BY_SIDE]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.side_by_side:
        import json
        import pathlib

        runs = [json.loads(pathlib.Path(path).read_text()) for path in args.side_by_side]
        print(side_by_side(*runs))
        return 0
    results = {
        "classifier": classifier_table(
            args.model, args.methods, args.images, args.seed, args.top_n, args.steps
        ),
        "settings": vars(args),
    }
    if not args.no_unet:
        results["unet"] = unet_table(args.methods, args.images, args.seed + 1, args.top_n)
    print(
        f"Bundled classifier {args.model}, {args.images} held-out images (seed {args.seed}), "
        f"layer {demo.CLASSIFIER_LAYER}, targets = "
        f"true labels, pointing game with tolerance 0, deletion/insertion {args.steps} "
        f"steps, top_n={args.top_n}:\n"
    )
    print(markdown(results["classifier"]))
    if args.no_unet:
        if args.json:
            write_json(args.json, results)
        return 0
    print(
        f"\nBundled U-Net, {args.images} held-out images (seed {args.seed + 1}), "
        f"mask_score targets (labeled class over its predicted pixels), layer "
        f"{demo.decoder_layer(models.load('shapes-unet'))}:\n"
    )
    print(markdown(results["unet"]))
    if args.json:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
