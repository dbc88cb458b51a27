"""Epoch time of `model.fit` with and without each tfxai callback, and a 50-epoch soak.

Overhead part: the bundled shapes classifier (`tfxai.models.load("shapes-classifier")`)
is fine-tuned on freshly generated shapes (`--epoch-images`, default 2 000 per epoch,
batch 32, Adam 1e-4), once per configuration, the configurations interleaved round by
round so machine drift hits them alike:

    none        no callback
    cam         ExplanationCallback("grad_cam", 8 images, target="labels", every epoch)
    metrics     ExplanationMetricsCallback("grad_cam", 8 images + masks, pointing game +
                deletion (the callback's default 24 steps), every epoch)
    metrics50   the same with deletion curves of 50 steps (the metric's own default)
    features    FeatureVisCallback(2 objectives, 64 steps, 64 px, every epoch)  [--features]

Each fit runs `--epochs` epochs (default 4); the first (tracing, warm-up) is dropped. An
epoch's time runs from one `on_epoch_end` of a timer placed LAST in the callback list to
the next, so it includes the callbacks' own work; a second timer placed FIRST gives the
time spent in the callbacks themselves at each epoch end (robust to the drift of a shared
machine, which moves whole epochs by several per cent). Printed per configuration: the
median epoch time and its change over `none`, the median time in the callback and that
time over the median epoch without callbacks, against the targets (cam <= 5 %, metrics
<= 10 %).

Soak part (`--soak-epochs`, default 50): one fit of 50 small epochs (`--soak-images`,
default 256) with the CAM callback; prints the traces counted after epoch 1 (goal 0) and
the RSS growth between epoch 5 and the last (goal < 10 %).

Usage:

    python benchmarks/bench_callbacks.py                       # ~8 min on 2 cores
    python benchmarks/bench_callbacks.py --rounds 1 --soak-epochs 0
    python benchmarks/bench_callbacks.py --json benchmarks/results/callbacks.json
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import numpy as np
import tensorflow as tf

import tfxai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _record import write_json

TARGETS = {"cam": 0.05, "metrics": 0.10}
EXPLAINED = 8


class Timer(keras.callbacks.Callback):
    """Wall-clock time at each `on_epoch_end` (one first and one last in the list: the
    difference is the time the callbacks between them spent at the end of the epoch)."""

    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def rss_mib():
    """Resident set size of this process in MiB (VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def object_masks(data):
    channels = 1 + data.labels[:, None, None, None]
    return np.take_along_axis(data.masks, channels, axis=-1)[..., 0] > 0.5


def make_callbacks(name, samples, log_dir):
    images, labels, masks = samples
    if name == "none":
        return []
    if name == "cam":
        return [
            tfxai.ExplanationCallback(
                "grad_cam", (images, labels), target="labels", layer="block4_out", log_dir=log_dir
            )
        ]
    if name.startswith("metrics"):
        steps = {"metrics": 24, "metrics50": 50}[name]
        return [
            tfxai.ExplanationMetricsCallback(
                "grad_cam",
                (images, labels, masks),
                target="labels",
                layer="block4_out",
                metrics=("pointing_game", "deletion"),
                log_dir=log_dir,
                metric_options={"deletion": {"steps": steps}},
            )
        ]
    objectives = {
        "circle": tfxai.featurevis.class_logit(0),
        "block4": tfxai.featurevis.channel("block4_out", [0, 1]),
    }
    return [tfxai.FeatureVisCallback(objectives, steps=64, size=64, log_dir=log_dir)]


def fresh_model():
    model = tfxai.models.load("shapes-classifier")
    model.compile(
        keras.optimizers.Adam(1e-4), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def epoch_times(name, data, samples, epochs, log_dir):
    """Epoch times and the callbacks' own time in each, epochs 2..n (the first warms up)."""
    model, first, last = fresh_model(), Timer(), Timer()
    model.fit(
        data.images,
        data.labels,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        callbacks=[first] + make_callbacks(name, samples, log_dir) + [last],
    )
    inside = np.asarray(last.ends) - np.asarray(first.ends)
    return list(np.diff(last.ends)), list(inside[1:])


def overhead(args, log_root):
    data = tfxai.datasets.make_shapes(args.epoch_images, seed=args.seed)
    held = tfxai.datasets.make_shapes(EXPLAINED, seed=args.seed + 1)
    samples = (held.images, held.labels, object_masks(held))
    names = ["none", "cam", "metrics", "metrics50"] + (["features"] if args.features else [])
    times = {name: [] for name in names}
    inside = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names:
            log_dir = os.path.join(log_root, f"{name}-{round_}")
            epochs, own = epoch_times(name, data, samples, args.epochs, log_dir)
            times[name] += epochs
            inside[name] += own
            print(
                f"round {round_ + 1} {name:9s} epochs {np.round(epochs, 3)} s, in the "
                f"callback {np.round(own, 3)} s",
                flush=True,
            )
    base = statistics.median(times["none"])
    rows = {}
    for name in names:
        median, own = statistics.median(times[name]), statistics.median(inside[name])
        rows[name] = {
            "median_s": median,
            "epochs_s": times[name],
            "overhead": median / base - 1,
            "callback_s": own,
            "callback_s_all": inside[name],
            "callback_share": own / base,
            "target": TARGETS.get(name),
        }
    return rows


def soak(args, log_root):
    data = tfxai.datasets.make_shapes(args.soak_images, seed=args.seed + 2)
    held = tfxai.datasets.make_shapes(EXPLAINED, seed=args.seed + 1)
    callback = tfxai.ExplanationCallback(
        "grad_cam",
        (held.images, held.labels),
        target="labels",
        layer="block4_out",
        log_dir=os.path.join(log_root, "soak"),
    )
    record = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            record.append((callback.explain.explainer.engine.traces, rss_mib()))

    fresh_model().fit(
        data.images,
        data.labels,
        epochs=args.soak_epochs,
        batch_size=32,
        verbose=0,
        callbacks=[callback, Watch()],
    )
    traces = [t for t, _ in record]
    rss = [r for _, r in record]
    return {
        "epochs": args.soak_epochs,
        "images_per_epoch": args.soak_images,
        "traces_after_epoch_1": traces[-1] - traces[0],
        "traces": traces,
        "rss_epoch_5_mib": rss[4],
        "rss_last_mib": rss[-1],
        "rss_growth": rss[-1] / rss[4] - 1,
        "rss_mib": rss,
        "warnings": callback.warnings,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epoch-images", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--features", action="store_true")
    parser.add_argument("--soak-epochs", type=int, default=50)
    parser.add_argument("--soak-images", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args(argv)
    result = {
        "settings": vars(args),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
    }
    with tempfile.TemporaryDirectory() as log_root:
        if args.rounds:
            result["overhead"] = overhead(args, log_root)
            print(
                f"\nEpoch of {args.epoch_images} images (batch 32), {EXPLAINED} explained "
                f"images, every epoch; median of {args.rounds * (args.epochs - 1)} epochs.\n"
            )
            print(
                "| callback | median epoch (s) | epoch vs none | in the callback (s) | "
                "callback / epoch without | target |"
            )
            print("|---|---|---|---|---|---|")
            for name, row in result["overhead"].items():
                target = "" if row["target"] is None else f"<= {row['target']:.0%}"
                print(
                    f"| {name} | {row['median_s']:.3f} | {row['overhead']:+.1%} | "
                    f"{row['callback_s']:.3f} | {row['callback_share']:.1%} | {target} |"
                )
        if args.soak_epochs:
            result["soak"] = soak(args, log_root)
            s = result["soak"]
            print(
                f"\nSoak: {s['epochs']} epochs of {s['images_per_epoch']} images with the CAM "
                f"callback: traces after epoch 1 = {s['traces_after_epoch_1']} (goal 0); "
                f"RSS epoch 5 = {s['rss_epoch_5_mib']:.0f} MiB, epoch {s['epochs']} = "
                f"{s['rss_last_mib']:.0f} MiB, growth {s['rss_growth']:+.1%} (goal < 10 %)."
            )
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
