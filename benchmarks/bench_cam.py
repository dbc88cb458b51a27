"""Race the tfxai CAM methods against tf-keras-vis and xplique on ResNet50 (CPU).

For each method and batch size this times, in one process: the tfxai class twin, the same
work in tf-keras-vis and xplique (where they have the method), and the compiled forward
pass of the same model on the same batch, then prints a Markdown table with the ratios
method/forward and peer/tfxai.

Setup (ResNet50(weights=None), 224 px, softmax head, layer `conv5_block3_out`, seeded
random images, the predicted class of each image as the target of every library):

    pip install -r benchmarks/requirements.txt && pip install --no-deps xplique==2.0.2

Usage:

    python benchmarks/bench_cam.py                      # batches 1 and 8, all methods
    python benchmarks/bench_cam.py --quick --batches 8 --methods grad_cam grad_cam_plus_plus
    python benchmarks/bench_cam.py --json benchmarks/results/cam.json

Timing: every explainer is built once and called once to warm up (the first call traces
and compiles); then the forward pass and every library's explainer are called in turn,
`--repeats` rounds (`--slow-repeats` for Score-CAM / Ablation-CAM), and the median of each
is reported. Interleaving the calls keeps the ratios honest when the machine's speed
drifts. A missing peer is reported as "n/a" and the run goes on.

Methods: grad_cam, grad_cam_plus_plus, xgrad_cam, layer_cam, hires_cam, eigen_cam,
score_cam and ablation_cam (`--top-n` channels, default 64), plus fem, xplique's other
CAM-family method, which tfxai does not have (peer-only row).
"""

import argparse
import gc
import os
import platform
import statistics
import sys
import time

# The helpers next to this file, and the checkout's tfxai ahead of any installed copy.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from _record import write_json  # noqa: E402  (re-exported for the other scripts)

_peers.quiet_tensorflow()

# (method, batch) -> (ratio column, comparison, bound): the goals from the issue.
GOALS = {
    ("grad_cam", 8): ("tfxai/fwd", "<=", 1.05),
    ("grad_cam", 1): ("tfxai/fwd", "<=", 1.15),
    ("grad_cam_plus_plus", 8): ("tfxai/fwd", "<=", 1.10),
    ("score_cam", 8): ("tf-keras-vis/tfxai", ">=", 2.0),
}
GOAL_TOP_N = 64  # the Score-CAM goal is stated for 64 masks
SHORT = {"tfxai": "tfxai", "tf-keras-vis": "tkv", "xplique": "xpl"}


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batches", type=int, nargs="+", default=[1, 8], help="batch sizes (default: 1 8)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=list(_peers.METHODS),
        choices=_peers.METHODS,
        metavar="METHOD",
        help=f"methods to run (default: all of {', '.join(_peers.METHODS)})",
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
        default=2,
        help="timed calls for Score-CAM / Ablation-CAM (default 2)",
    )
    parser.add_argument(
        "--top-n",
        type=int,
        default=64,
        help="channels scored by Score-CAM / Ablation-CAM (default 64)",
    )
    parser.add_argument(
        "--pass-batch",
        type=int,
        default=32,
        help="masked/ablated inputs per forward chunk (default 32)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2 repeats, 1 for the slow methods"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.slow_repeats = 2, 1
    return args


def time_interleaved(calls, repeats):
    """Median seconds of each zero-argument callable, called in turn `repeats` times."""
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def prepare(library, method, model, images, classes, args):
    """Builds and warms up one explainer; returns `(call, None)` or `(None, why not)`."""
    try:
        explain = _peers.make_explainer(
            library, method, model, batch=len(images), top_n=args.top_n, pass_batch=args.pass_batch
        )
        maps = explain(images, classes)
    except _peers.Unavailable:
        return None, "n/a"
    except Exception as error:  # report a broken peer, keep racing the others
        return None, f"error: {summary(error)}"
    if maps.shape != images.shape[:3]:
        return None, f"error: maps of shape {maps.shape}, expected {images.shape[:3]}"
    return (lambda: explain(images, classes)), None


def summary(error):
    """`Type: last line of the message`, short enough for a table cell."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {(lines[-1] if lines else '')[:160]}"


def bench_row(method, forward, model, images, classes, args):
    """Times one method at one batch size against the forward pass; returns a result dict.

    Every library explains the same model object (tf-keras-vis clones it on its own).
    """
    row = {"method": method, "batch": len(images), "seconds": {}, "status": {}}
    calls = {"forward": lambda: forward(images).numpy()}
    for library in args.libraries:
        call, status = prepare(library, method, model, images, classes, args)
        row["status"][library] = status or "ok"
        if call is not None:
            calls[library] = call
    repeats = args.slow_repeats if method in _peers.TOP_N_METHODS else args.repeats
    row["seconds"] = time_interleaved(calls, repeats)
    row["repeats"] = repeats
    row["ratios"] = _peers.ratios(row["seconds"], "forward", "fwd")
    row["goal"] = goal(method, len(images), row["ratios"], args.top_n)
    return row


def goal(method, batch, found, top_n):
    """The issue's goal for this row and whether it is met, or None if there is none."""
    if (method, batch) not in GOALS or (method in _peers.TOP_N_METHODS and top_n != GOAL_TOP_N):
        return None
    column, comparison, bound = GOALS[(method, batch)]
    text = f"{column} {comparison} {bound:.2f}x"
    if column not in found:
        return {"goal": text, "met": None}
    value = found[column]
    met = value <= bound if comparison == "<=" else value >= bound
    return {"goal": text, "met": met}


def tkv_scorecam_channels(model, images, top_n):
    """Distinct channels tf-keras-vis `Scorecam(max_N=top_n)` scores for this batch.

    It ranks each image's channels by spatial standard deviation and masks EVERY image
    with the union of the per-image top `top_n`, so at batch B it runs up to B * B * top_n
    forward passes (tfxai: B * top_n).
    """
    import keras
    import tensorflow as tf

    features = keras.Model(model.inputs, model.get_layer(_peers.LAYER).output)
    spread = tf.math.reduce_std(features(images, training=False), axis=(1, 2))
    top = tf.math.top_k(spread, k=top_n).indices
    return len(set(top.numpy().ravel().tolist()))


def fmt_ms(seconds):
    """Milliseconds, one decimal below 10 s."""
    if seconds is None:
        return "n/a"
    ms = seconds * 1000
    return f"{ms:.1f}" if ms < 10000 else f"{ms:.0f}"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def cell(row, library):
    """Time of `library` in `row`, or why it has none."""
    if library in row["seconds"]:
        return fmt_ms(row["seconds"][library])
    status = row["status"].get(library, "skipped")
    return "n/a" if status in ("n/a", "skipped") else status


def markdown_table(rows, libraries):
    """The results as a Markdown table."""
    header = ["method", "B", "forward ms"]
    for library in libraries:
        short = SHORT[library]
        header += [f"{library} ms", f"{short}/fwd"]
        if library != "tfxai":
            header.append(f"{short}/tfxai")
    header.append("goal")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        found = row["ratios"]
        cells = [row["method"], str(row["batch"]), fmt_ms(row["seconds"]["forward"])]
        for library in libraries:
            cells += [cell(row, library), fmt_ratio(found.get(f"{library}/fwd"))]
            if library != "tfxai":
                cells.append(fmt_ratio(found.get(f"{library}/tfxai")))
        cells.append(goal_text(row["goal"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def goal_text(result):
    if result is None:
        return ""
    verdict = {True: "PASS", False: "FAIL", None: "not measured"}[result["met"]]
    return f"{result['goal']}: {verdict}"


def environment(args):
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "versions": _peers.versions(),
        "repeats": args.repeats,
        "slow_repeats": args.slow_repeats,
        "top_n": args.top_n,
        "pass_batch": args.pass_batch,
        "seed": args.seed,
        "layer": _peers.LAYER,
    }


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf

    _peers.disable_progress_bars()
    env = environment(args)
    model = _peers.build_resnet50(args.seed)
    forward = tf.function(lambda x: model(x, training=False))
    rows, notes = [], []
    for batch in args.batches:
        images = _peers.make_images(batch, args.seed)
        classes = _peers.predicted_classes(forward, images)
        for method in args.methods:
            print(f"# {method} B={batch} ...", file=sys.stderr, flush=True)
            rows.append(bench_row(method, forward, model, images, classes, args))
            gc.collect()
        if any(
            row["method"] == "score_cam"
            and row["batch"] == batch
            and row["status"].get("tf-keras-vis") == "ok"
            for row in rows
        ):
            count = tkv_scorecam_channels(model, images, args.top_n)
            notes.append(
                f"B={batch}: tf-keras-vis Scorecam(max_N={args.top_n}) masks every "
                f"image with the union of per-image top channels: {count} channels, "
                f"{count * batch} forward passes (tfxai: {args.top_n * batch})."
            )
    print_report(env, rows, notes, args.libraries)
    if args.json:
        write_json(args.json, {"environment": env, "rows": rows, "notes": notes})


def print_report(env, rows, notes, libraries):
    """Prints the environment, the table and the notes to stdout."""
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    print(
        f"ResNet50(weights=None) 224 px, layer {env['layer']}, {env['cpus']} CPUs, "
        f"Python {env['python']}; {versions}"
    )
    print(
        f"median of {env['repeats']} calls ({env['slow_repeats']} for Score-CAM/"
        f"Ablation-CAM), top_n={env['top_n']}, pass batch {env['pass_batch']}\n"
    )
    print(markdown_table(rows, libraries))
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
