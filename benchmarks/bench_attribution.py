"""Race the tfxai attribution methods against tf-keras-vis, xplique and the gradient floor.

For each (method, batch) row this times, in one process: the tfxai class twin, the same
work in tf-keras-vis and xplique (where they have the method), and the *floor*: the raw
compiled forward+backward pass to the input (one `tf.function`, gradient of the class
score with respect to the images) over the same number of model evaluations, in the same
chunks of `--pass-batch` images, from tensors prepared in advance. It prints the ratios
method/floor and peer/tfxai and a Markdown table.

Setup (ResNet50(weights=None), 224 px, softmax head, seeded random images and seeded class
ids, the same for every library; the cost does not depend on the class):

    pip install -r benchmarks/requirements.txt && pip install --no-deps xplique==2.0.2

Usage:

    python benchmarks/bench_attribution.py                 # the four rows below
    python benchmarks/bench_attribution.py --quick         # smoke run: 1 timed call
    python benchmarks/bench_attribution.py --rows saliency:8 --json results/attr.json

Rows (method:batch): `smooth_grad:1`, `smooth_grad:8` (20 noisy samples, noise 0.2 of the
image range), `integrated_gradients:8` (50 steps), `saliency:8`. Work per row:

- SmoothGrad: `batch * samples` gradient evaluations. tfxai batches the noisy copies of
  all images together (`batch_size=--pass-batch` copies per pass); tf-keras-vis runs one
  pass of the whole batch per sample; xplique gets `batch_size=--pass-batch`.
- Integrated Gradients: tfxai's 50 steps are 50 trapezoid intervals, 51 path points;
  xplique gets `steps=51` points (the same 50 intervals), `batch_size=--pass-batch`.
  The floor runs the 51 points per image. tf-keras-vis has no IG.
- Saliency: one gradient pass of the batch; the floor is one forward+backward.

tf-keras-vis runs as its docs recommend (`ReplaceToLinear` on a clone of the model);
tfxai scores the logits behind the softmax from the traced graph; xplique differentiates
the softmax output as given (the cost is the same). Timing follows `bench_cam.py`: each
explainer is built and called once (tracing), then the floor and every library are called
in turn, `--repeats` rounds (`--slow-repeats` for the heavy rows), and medians reported.
"""

import argparse
import gc
import importlib
import os
import platform
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from bench_cam import fmt_ms, fmt_ratio, summary, time_interleaved, write_json  # noqa: E402

_peers.quiet_tensorflow()

SAMPLES = 20
NOISE = 0.2
STEPS = 50
ROWS = ("smooth_grad:1", "smooth_grad:8", "integrated_gradients:8", "saliency:8")
HEAVY = ("smooth_grad", "integrated_gradients")
# (method, batch) -> bound on tfxai/floor: the goals from the issue.
GOALS = {
    ("smooth_grad", 1): 1.20,
    ("smooth_grad", 8): 1.10,
    ("integrated_gradients", 8): 1.15,
    ("saliency", 8): 1.10,
}
SHORT = {"tfxai": "tfxai", "tf-keras-vis": "tkv", "xplique": "xpl"}


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        nargs="+",
        default=list(ROWS),
        metavar="METHOD:BATCH",
        help=f"rows to run (default: {' '.join(ROWS)})",
    )
    parser.add_argument(
        "--libraries",
        nargs="+",
        default=list(_peers.LIBRARIES),
        choices=_peers.LIBRARIES,
        help="libraries to race (default: all)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed calls per explainer (default 5)"
    )
    parser.add_argument(
        "--slow-repeats",
        type=int,
        default=3,
        help="timed calls for SmoothGrad at batch 8 and IG (default 3)",
    )
    parser.add_argument(
        "--pass-batch",
        type=int,
        default=32,
        help="model evaluations per compiled pass (default 32)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 timed call")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    args.rows = [parse_row(row) for row in args.rows]
    if args.quick:
        args.repeats = args.slow_repeats = 1
    return args


def parse_row(text):
    method, _, batch = text.partition(":")
    if method not in ("smooth_grad", "integrated_gradients", "saliency") or not batch.isdigit():
        raise SystemExit(
            f"--rows: expected METHOD:BATCH with METHOD smooth_grad, "
            f"integrated_gradients or saliency, got {text!r}"
        )
    return method, int(batch)


def evaluations(method, batch):
    """Gradient evaluations (images through forward+backward) each method needs."""
    per_image = {"smooth_grad": SAMPLES, "integrated_gradients": STEPS + 1, "saliency": 1}
    return batch * per_image[method]


# --------------------------------------------------------------------------- the floor


def make_floor(model):
    """`floor(chunks, classes)`: the compiled input gradient over prepared chunks."""
    import tensorflow as tf

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, 224, 224, 3), tf.float32),
            tf.TensorSpec((None,), tf.int32),
        ]
    )
    def gradient(images, classes):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            scores = tf.gather(model(images, training=False), classes, axis=1, batch_dims=1)
        return tape.gradient(scores, images)

    def prepare(images, classes, count, pass_batch):
        import numpy as np

        repeats = -(-count // len(images))
        flat = np.repeat(images, repeats, axis=0)[:count]
        ids = np.repeat(np.asarray(classes, np.int32), repeats)[:count]
        chunks = [
            (tf.constant(flat[s : s + pass_batch]), tf.constant(ids[s : s + pass_batch]))
            for s in range(0, count, pass_batch)
        ]

        def floor():
            for chunk, chunk_ids in chunks:
                gradient(chunk, chunk_ids).numpy()

        return floor

    return prepare


# --------------------------------------------------------------------------- adapters


def _import(module, library):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise _peers.Unavailable(f"{library} not installed ({error})") from error


def make_explainer(library, method, model, *, batch, pass_batch, value_range):
    """`explain(images, classes) -> numpy (B, H, W)` for one library and method.

    Raises:
        _peers.Unavailable: the library is missing or has no such method.
    """
    builders = {"tfxai": _tfxai, "tf-keras-vis": _tf_keras_vis, "xplique": _xplique}
    return builders[library](
        method, model, batch=batch, pass_batch=pass_batch, value_range=value_range
    )


def _tfxai(method, model, *, batch, pass_batch, value_range):
    del value_range  # tfxai's noise is relative to each image's range
    attribution = _import("tfxai.attribution", "tfxai")
    explainer = {
        "smooth_grad": lambda: attribution.SmoothGrad(model, samples=SAMPLES, noise=NOISE),
        "integrated_gradients": lambda: attribution.IntegratedGradients(model, steps=STEPS),
        "saliency": lambda: attribution.Saliency(model),
    }[method]()
    size = max(pass_batch, batch) if method == "saliency" else pass_batch

    def explain(images, classes):
        return explainer(images, list(classes), batch_size=size)

    return explain


def _tf_keras_vis(method, model, *, batch, pass_batch, value_range):
    del batch, pass_batch, value_range
    if method not in ("smooth_grad", "saliency"):
        raise _peers.Unavailable(f"tf-keras-vis has no {method}")
    saliency = _import("tf_keras_vis.saliency", "tf-keras-vis")
    scores = _import("tf_keras_vis.utils.scores", "tf-keras-vis")
    modifiers = _import("tf_keras_vis.utils.model_modifiers", "tf-keras-vis")
    visualizer = saliency.Saliency(model, model_modifier=modifiers.ReplaceToLinear(), clone=True)
    options = {"smooth_samples": SAMPLES, "smooth_noise": NOISE} if method == "smooth_grad" else {}

    def explain(images, classes):
        return visualizer(scores.CategoricalScore(list(classes)), images, **options)

    return explain


def _xplique(method, model, *, batch, pass_batch, value_range):
    attributions = _import("xplique.attributions", "xplique")
    if method == "smooth_grad":  # xplique's noise is an absolute std: match tfxai's
        explainer = attributions.SmoothGrad(
            model, batch_size=pass_batch, nb_samples=SAMPLES, noise=NOISE * value_range
        )
    elif method == "integrated_gradients":  # xplique's steps are path points
        explainer = attributions.IntegratedGradients(
            model, batch_size=pass_batch, steps=STEPS + 1, baseline_value=0.0
        )
    else:
        explainer = attributions.Saliency(model, batch_size=batch)
    classes_count = model.outputs[0].shape[-1]

    def explain(images, classes):
        import tensorflow as tf

        one_hot = tf.one_hot(list(classes), classes_count)
        return explainer.explain(images, one_hot).numpy()[..., 0]

    return explain


# --------------------------------------------------------------------------- rows


def prepare(library, method, model, images, classes, args):
    """Builds and warms up one explainer; returns `(call, None)` or `(None, why not)`."""
    try:
        value_range = float(images.max() - images.min())
        explain = make_explainer(
            library,
            method,
            model,
            batch=len(images),
            pass_batch=args.pass_batch,
            value_range=value_range,
        )
        maps = explain(images, classes)
    except _peers.Unavailable:
        return None, "n/a"
    except Exception as error:  # report a broken peer, keep racing the others
        return None, f"error: {summary(error)}"
    if maps.shape != images.shape[:3]:
        return None, f"error: maps of shape {maps.shape}, expected {images.shape[:3]}"
    return (lambda: explain(images, classes)), None


def bench_row(method, batch, model, floor_for, args):
    """Times one row against the floor; returns a result dict."""
    images = _peers.make_images(batch, args.seed)
    classes = _peers.fixed_classes(batch, args.seed)
    count = evaluations(method, batch)
    row = {"method": method, "batch": batch, "evaluations": count, "seconds": {}, "status": {}}
    floor = floor_for(images, classes, count, args.pass_batch)
    floor()  # trace once
    calls = {"floor": floor}
    for library in args.libraries:
        call, status = prepare(library, method, model, images, classes, args)
        row["status"][library] = status or "ok"
        if call is not None:
            calls[library] = call
    repeats = args.slow_repeats if (method in HEAVY and batch > 1) else args.repeats
    row["seconds"] = time_interleaved(calls, repeats)
    row["repeats"] = repeats
    row["ratios"] = _peers.ratios(row["seconds"], "floor", "floor")
    row["goal"] = goal(method, batch, row["ratios"])
    return row


def goal(method, batch, found):
    """The issue's goal for this row and whether it is met, or None if there is none."""
    if (method, batch) not in GOALS:
        return None
    bound = GOALS[(method, batch)]
    value = found.get("tfxai/floor")
    return {
        "goal": f"tfxai/floor <= {bound:.2f}x",
        "met": None if value is None else value <= bound,
    }


# --------------------------------------------------------------------------- report


def cell(row, library):
    if library in row["seconds"]:
        return fmt_ms(row["seconds"][library])
    status = row["status"].get(library, "skipped")
    return "n/a" if status in ("n/a", "skipped") else status


def goal_text(result):
    if result is None:
        return ""
    verdict = {True: "PASS", False: "FAIL", None: "not measured"}[result["met"]]
    return f"{result['goal']}: {verdict}"


def markdown_table(rows, libraries):
    """The results as a Markdown table."""
    header = ["method", "B", "grad evals", "floor ms"]
    for library in libraries:
        short = SHORT[library]
        header += [f"{library} ms", f"{short}/floor"]
        if library != "tfxai":
            header.append(f"{short}/tfxai")
    header.append("goal")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        found = row["ratios"]
        cells = [
            row["method"],
            str(row["batch"]),
            str(row["evaluations"]),
            fmt_ms(row["seconds"]["floor"]),
        ]
        for library in libraries:
            cells += [cell(row, library), fmt_ratio(found.get(f"{library}/floor"))]
            if library != "tfxai":
                cells.append(fmt_ratio(found.get(f"{library}/tfxai")))
        cells.append(goal_text(row["goal"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment(args):
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "versions": _peers.versions(),
        "repeats": args.repeats,
        "slow_repeats": args.slow_repeats,
        "pass_batch": args.pass_batch,
        "seed": args.seed,
        "samples": SAMPLES,
        "noise": NOISE,
        "steps": STEPS,
    }


def print_report(env, rows, libraries):
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    print(f"ResNet50(weights=None) 224 px, {env['cpus']} CPUs, Python {env['python']}; {versions}")
    print(
        f"median of {env['repeats']} calls ({env['slow_repeats']} for SmoothGrad B>1 "
        f"and IG); SmoothGrad {env['samples']} samples, noise {env['noise']}; IG "
        f"{env['steps']} steps (51 points); {env['pass_batch']} evaluations per pass\n"
    )
    print(markdown_table(rows, libraries))


def main(argv=None):
    args = parse_args(argv)
    _peers.disable_progress_bars()
    env = environment(args)
    model = _peers.build_resnet50(args.seed)
    floor_for = make_floor(model)
    rows = []
    for method, batch in args.rows:
        print(f"# {method} B={batch} ...", file=sys.stderr, flush=True)
        rows.append(bench_row(method, batch, model, floor_for, args))
        gc.collect()
    print_report(env, rows, args.libraries)
    if args.json:
        write_json(args.json, {"environment": env, "rows": rows})


if __name__ == "__main__":
    main()
