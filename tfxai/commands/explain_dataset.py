"""`tfxai explain-dataset MODEL IMAGE_DIR OUT`: a folder of images into resumable shards."""

from __future__ import annotations

import argparse
import os
from typing import Any

from tfxai.commands import catalog, checks

#: The API argument each flag becomes, so an error names what the user typed.
FLAGS = {
    "method": "--method",
    "layer": "--layer",
    "target": "--target",
    "preprocess": "--preprocess",
    "preprocessing": "--preprocess",
    "metrics": "--metrics",
    "shard_size": "--shard-size",
    "batch_size": "--batch-size",
    "dtype": "--dtype",
    "dataset": "IMAGE_DIR",
    "image_dir": "IMAGE_DIR",
    "out_dir": "OUT",
    "weights": "--weights",
    "runner": "--runner",
}

EPILOG = """examples:
  tfxai explain-dataset shapes-classifier images/ runs/gradcam
  tfxai explain-dataset model.keras val/ runs/val --method hires_cam --metrics deletion
  tfxai explain-dataset model.keras val/ runs/val --runner beam
Run the same command again after an interruption: finished shards are kept.
Read the result in Python: tfxai.load_explanations("runs/val")."""


def add_parser(commands: Any) -> None:
    """Adds the `explain-dataset` command to the `tfxai` sub-parsers."""
    parser = commands.add_parser(
        "explain-dataset",
        help="explain every image of a folder into resumable shards (+ metrics)",
        description="Explains every image under IMAGE_DIR (PNG, JPEG, BMP, GIF; sorted "
        "path order; resized to the model's input) with one method and writes the maps "
        "and per-image metrics to OUT as .npz shards with a manifest.json "
        "(tfxai.explain_dataset). An interrupted run resumes where it stopped. "
        f"MODEL is a bundled model ({', '.join(catalog.ZOO_MODELS)}), a .keras file, or "
        "resnet50. --runner beam runs the same work as an Apache Beam pipeline on the "
        'local DirectRunner (pip install "tfxai[beam]").',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="bundled model name, .keras file, resnet50")
    parser.add_argument("image_dir", metavar="IMAGE_DIR", help="folder of image files")
    parser.add_argument("out", metavar="OUT", help="output folder (shards + manifest.json)")
    parser.add_argument(
        "--method", default="grad_cam", help="method name (default: %(default)s; tfxai methods)"
    )
    parser.add_argument("--layer", default=None, help="layer for the methods that take one")
    parser.add_argument(
        "--target",
        default="predicted",
        help="class to explain: 'predicted' or one class id for every image (default: %(default)s)",
    )
    parser.add_argument(
        "--metrics",
        default="",
        help=f"comma list of per-image metrics: {', '.join(catalog.DATASET_METRICS)} "
        "(default: none)",
    )
    parser.add_argument(
        "--preprocess",
        default="none",
        choices=catalog.PREPROCESS_MODES,
        help="the model's input convention for [0, 1] RGB images (default: none)",
    )
    parser.add_argument("--batch-size", type=int, default=32, help="default: %(default)s")
    parser.add_argument(
        "--shard-size", type=int, default=1024, help="images per shard (default: %(default)s)"
    )
    parser.add_argument("--dtype", default="float16", choices=("float16", "float32"))
    parser.add_argument(
        "--overwrite", action="store_true", help="discard OUT if made with other settings"
    )
    parser.add_argument("--runner", default="direct", choices=("direct", "beam"))
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--weights", default=None, help="resnet50 only: 'imagenet' (downloads) or a weights file"
    )


def run(args: argparse.Namespace) -> int:
    """Runs `tfxai explain-dataset`: the cheap checks first, then TensorFlow and the run."""
    method = checks.check_method(args.method)
    checks.check_layer_option(method, args.layer)
    checks.check_model_name(args.model, args.weights)
    if not os.path.isdir(args.image_dir):
        raise ValueError(f"IMAGE_DIR: {args.image_dir!r} is not a folder of image files.")
    checks.check_out_dir(args.out, "OUT", "")
    target = checks.parse_target(args.target, 1)
    metrics = _metrics(args.metrics)
    options = {
        "target": target,
        "layer": args.layer,
        "metrics": metrics,
        "shard_size": args.shard_size,
        "batch_size": args.batch_size,
        "dtype": args.dtype,
        "preprocessing": None if args.preprocess == "none" else args.preprocess,
    }
    if args.runner == "beam":
        result = _run_beam(args, method, options)
    else:
        from tfxai.commands.loading import load_model

        model = load_model(args.model, args.weights)  # imports TensorFlow quietly
        from tfxai.scale import explain_dataset

        try:
            result = explain_dataset(
                model,
                args.image_dir,
                method,
                args.out,
                overwrite=args.overwrite,
                progress=not args.no_progress,
                **options,
            )
        except ValueError as error:  # the API's remedy, in the command line's words
            text = str(error).replace("overwrite=True", "--overwrite")
            raise ValueError(text.replace("another out_dir", "another OUT")) from None
    summary = ", ".join(f"{k} {v:.4f}" for k, v in result.summary().items() if k != "count")
    print(f"{len(result)} images explained with {method} in {args.out} (manifest.json)")
    if summary:
        print(f"  mean per image: {summary}")
    return 0


def _metrics(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in catalog.DATASET_METRICS:
            raise ValueError(
                f"--metrics: unknown metric {name!r}; expected a comma list of "
                f"{', '.join(catalog.DATASET_METRICS)}."
            )
    return names


def _run_beam(args: argparse.Namespace, method: str, options: dict[str, Any]) -> Any:
    """The same run as an Apache Beam pipeline on the local DirectRunner."""
    if args.model in catalog.ZOO_MODELS:
        from tfxai.models import zoo

        model_path = str(zoo.path(args.model))
    elif args.model.endswith(".keras"):
        model_path = args.model
    else:
        raise ValueError(
            f"--runner: beam loads the model from a file on each worker: give a .keras "
            f"file or a bundled model ({', '.join(catalog.ZOO_MODELS)}), got {args.model!r}."
        )
    if args.overwrite:
        raise ValueError("--overwrite: not supported with --runner beam; use an empty OUT.")
    from tfxai.commands.quiet import import_tensorflow

    import_tensorflow()
    import tfxai.scale.beam as beam

    return beam.explain_folder(model_path, args.image_dir, args.out, method, **options)
