"""Throughput and memory of `tfxai.explain_dataset` against a plain loop over `grad_cam`.

Speed: Grad-CAM over the same images, read the same way a user would, both ways writing
their maps:

    explain_dataset   `tfxai.explain_dataset(model, folder, "grad_cam", out_dir)`: tf.data
                      decodes the PNG files in parallel and prefetches; maps go to .npz
                      shards (float16) + manifest.json
    plain loop        per batch of B files: Pillow decode (`np.asarray(img) / 255`),
                      `tfxai.grad_cam(model, batch, batch_size=B)`, `np.save` of the
                      float16 maps

the same pair on JPEG "photos" (`--photo-size`, default 384 px: the images upscaled and
saved at quality 90, resized back to the model's 96 px by each side: Pillow bilinear in
the plain loop, `tf.image.resize` as Keras' image loader in explain_dataset), and the same
pair on an in-memory source (`tf.data.Dataset.from_tensor_slices(images)`:
explain_dataset on it; the plain loop iterates `dataset.batch(B)` and calls grad_cam). The
images are `tfxai.datasets.make_shapes(n, seed)`, written once as PNG files with Pillow;
the model is the bundled `shapes-classifier` (96x96x3). Every series is warmed up once
(tracing, the tail batch too), then the series run in turn, `--repeats` rounds, the order
reversed every other round, each run into a fresh folder; the table gives the median
images/s and the median of the per-round ratios. Goal: explain_dataset >= 1.3x the plain
loop on the photos (where reading costs what it does in real datasets; on the PNG folder
when `--photo-size 0`). A breakdown times the parts alone: the compiled Grad-CAM on arrays
already in memory (no reading, no writing: the ceiling of any input pipeline), Pillow
decoding alone, and the tf.data folder pipeline alone.

Memory: peak RSS (VmHWM) of a fresh process that loads the model and explains N images
with explain_dataset, for N = 2 000 and 20 000 (`--rss-sizes`). The source is a
`tf.data.Dataset.from_generator` of 500-image chunks: one make_shapes chunk, made once,
then shown rotated and flipped (8 variants, so every chunk costs a copy, not ~1.4 s of
drawing), so the source holds the same few chunks whatever N and a growing peak could only
come from explain_dataset. Goal: the peaks within 10 %.

Usage:

    python benchmarks/bench_dataset.py                      # both parts (~5 min on 2 cores)
    python benchmarks/bench_dataset.py --skip-rss --repeats 1
    python benchmarks/bench_dataset.py --json benchmarks/results/dataset.json
"""

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# The helpers next to this file, and the checkout's tfxai ahead of any installed copy.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from _record import write_json  # noqa: E402

MODEL = "shapes-classifier"
MARKER = "BENCH_DATASET_RESULT "
KIB_PER_MIB = 1024
CHUNK = 500
SPEED_GOAL = 1.3
RSS_GOAL = 1.10


def parse_args(argv=None):
    """Command-line options (`--child` is internal: one RSS run in a fresh process)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000, help="images timed (default 2000)")
    parser.add_argument("--batch", type=int, default=32, help="batch size B (default 32)")
    parser.add_argument("--shard-size", type=int, default=1024, help="default 1024")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--rss-sizes",
        type=int,
        nargs="+",
        default=[2000, 20000],
        help="images per memory run (default 2000 20000)",
    )
    parser.add_argument("--skip-rss", action="store_true", help="skip the memory part")
    parser.add_argument("--skip-speed", action="store_true", help="skip the speed part")
    parser.add_argument(
        "--skip-memory-source", action="store_true", help="time the folder source only"
    )
    parser.add_argument(
        "--photo-size",
        type=int,
        default=384,
        help="side of the JPEG 'photos' row (default 384; 0 skips it)",
    )
    parser.add_argument("--workdir", help="folder for the PNGs and outputs (default: a temp)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load_model():
    _peers.quiet_tensorflow()
    import tfxai

    _peers.disable_progress_bars()
    return tfxai.models.zoo.load(MODEL)


def rss_kib(field):
    """`VmHWM` (peak) or `VmRSS` (now) of this process in KiB (ru_maxrss off Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ------------------------------------------------------------------------------ speed


def write_images(folder, count, seed, size=None):
    """Writes `count` make_shapes images in chunks and returns their paths: PNG files at
    the images' own size, or with `size`, JPEG files (quality 90) upscaled (bicubic) to
    `size` px: camera-like inputs, larger than the model's and JPEG-coded, so reading costs
    what it costs in real datasets."""
    import numpy as np
    from PIL import Image

    import tfxai

    os.makedirs(folder, exist_ok=True)
    paths = []
    for start in range(0, count, CHUNK):
        shapes = tfxai.datasets.make_shapes(min(CHUNK, count - start), seed=(seed, start))
        for offset, image in enumerate(shapes.images):
            pixels = Image.fromarray(np.round(image * 255).astype(np.uint8))
            if size is None:
                path = os.path.join(folder, f"{start + offset:06d}.png")
                pixels.save(path)
            else:
                path = os.path.join(folder, f"{start + offset:06d}.jpg")
                pixels.resize((size, size), Image.Resampling.BICUBIC).save(path, quality=90)
            paths.append(path)
    return paths


def read_batch(paths, size=None):
    """A plain user's reading: Pillow (resized, bilinear, to `size` when given),
    `np.asarray / 255`, stacked float32."""
    import numpy as np
    from PIL import Image

    def pixels(path):
        image = Image.open(path).convert("RGB")
        if size is not None:
            image = image.resize((size, size), Image.Resampling.BILINEAR)
        return np.asarray(image, np.float32) / 255.0

    return np.stack([pixels(path) for path in paths])


def make_series(model, paths, photos, batch, shard_size, memory_source):
    """`{name: run(out_dir)}`: the timed callables, each writing its maps to `out_dir`."""
    import numpy as np
    import tensorflow as tf

    import tfxai

    def plain(batches):
        """The plain loop over `batches()`, a generator of image arrays."""

        def run(out):
            os.makedirs(out)
            for start, images in enumerate(batches()):
                maps = tfxai.grad_cam(model, images, batch_size=batch)
                np.save(os.path.join(out, f"{start * batch:06d}.npy"), maps.astype(np.float16))

        return run

    def streamed(source):
        def run(out):
            tfxai.explain_dataset(
                model,
                source,
                "grad_cam",
                out,
                batch_size=batch,
                shard_size=shard_size,
                progress=False,
            )

        return run

    def files(names, size=None):
        return lambda: (
            read_batch(names[start : start + batch], size) for start in range(0, len(names), batch)
        )

    series = {
        "plain loop, folder": plain(files(paths)),
        "explain_dataset, folder": streamed(os.path.dirname(paths[0])),
    }
    if photos:
        series["plain loop, photos"] = plain(files(photos, model.input_shape[1]))
        series["explain_dataset, photos"] = streamed(os.path.dirname(photos[0]))
    if memory_source:
        source = tf.data.Dataset.from_tensor_slices(read_batch(paths))  # the PNGs' pixels
        series["plain loop, in-memory tf.data"] = plain(
            lambda: (element.numpy() for element in source.batch(batch))
        )
        series["explain_dataset, in-memory tf.data"] = streamed(source)
    return series


def timed(run, out):
    gc.collect()
    start = time.perf_counter()
    run(out)
    return time.perf_counter() - start


def breakdown(model, paths, batch, rounds):
    """Images/s of the parts alone: compiled Grad-CAM on arrays, Pillow, tf.data decode."""
    import tensorflow as tf

    import tfxai
    from tfxai.scale import sources

    images = read_batch(paths)
    stream, _ = sources.image_stream(os.path.dirname(paths[0]), model)
    pipeline = stream.batch(batch).prefetch(tf.data.AUTOTUNE)

    def compute():
        for start in range(0, len(images), batch):
            tfxai.grad_cam(model, images[start : start + batch], batch_size=batch)

    def pillow():
        for start in range(0, len(paths), batch):
            read_batch(paths[start : start + batch])

    def decode():
        for element in pipeline:
            element["image"].numpy()

    parts = {
        "Grad-CAM alone (arrays in memory)": compute,
        "Pillow decode alone": pillow,
        "tf.data folder decode alone": decode,
    }
    seconds = {name: [] for name in parts}
    for _ in range(rounds):
        for name, part in parts.items():
            gc.collect()
            start = time.perf_counter()
            part()
            seconds[name].append(time.perf_counter() - start)
    return {name: len(paths) / median(times) for name, times in seconds.items()}


def max_difference(paths, plain_dir, dataset_dir):
    """Largest |plain loop map - explain_dataset map| over the images (both float16)."""
    import numpy as np

    import tfxai

    plain = np.concatenate(
        [np.load(os.path.join(plain_dir, name)) for name in sorted(os.listdir(plain_dir))]
    )
    streamed = tfxai.load_explanations(dataset_dir)[:]
    if plain.shape != streamed.shape:
        return f"shapes differ: {plain.shape} vs {streamed.shape}"
    return float(np.max(np.abs(plain.astype(np.float32) - streamed.astype(np.float32))))


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def speed_part(args, workdir):
    """Warms up and times every series; returns the speed results."""
    model = load_model()
    start = time.perf_counter()
    paths = write_images(os.path.join(workdir, "png"), args.images, args.seed)
    print(f"# wrote {len(paths)} PNG files in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    photos = []
    if args.photo_size:
        photos = write_images(os.path.join(workdir, "jpg"), args.images, args.seed, args.photo_size)
    series = make_series(
        model, paths, photos, args.batch, args.shard_size, not args.skip_memory_source
    )
    outputs = os.path.join(workdir, "out")
    for index, run in enumerate(series.values()):  # warm-up: tracing (both batch shapes)
        run(os.path.join(outputs, f"warm-{index}"))
    seconds = {name: [] for name in series}
    difference = None
    names = list(series)
    for round_ in range(args.repeats):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            out = os.path.join(outputs, f"r{round_}-{names.index(name)}")
            seconds[name].append(timed(series[name], out))
            print(f"#   round {round_ + 1}: {name}: {seconds[name][-1]:.2f} s", file=sys.stderr)
        if difference is None:
            difference = max_difference(
                paths, os.path.join(outputs, f"r{round_}-0"), os.path.join(outputs, f"r{round_}-1")
            )
        for index in range(len(names)):
            shutil.rmtree(os.path.join(outputs, f"r{round_}-{index}"), ignore_errors=True)
    parts = breakdown(model, paths, args.batch, args.repeats)
    rows = []
    for plain, streamed in zip(names[::2], names[1::2]):
        ratios = [p / s for p, s in zip(seconds[plain], seconds[streamed])]
        rows.append(
            {
                "source": plain.split(", ", 1)[1],
                "plain_images_per_s": args.images / median(seconds[plain]),
                "dataset_images_per_s": args.images / median(seconds[streamed]),
                "ratio": median(ratios),
                "ratios": ratios,
                "plain_seconds": seconds[plain],
                "dataset_seconds": seconds[streamed],
            }
        )
    ceiling = parts["Grad-CAM alone (arrays in memory)"] / rows[0]["plain_images_per_s"]
    # The goal is about overlapping reading with explaining: it is judged where reading
    # costs what it does in real datasets (the JPEG photos), else on the PNG folder.
    sources = [row["source"] for row in rows]
    goal_row = sources.index("photos") if "photos" in sources else 0
    return {
        "images": args.images,
        "batch": args.batch,
        "shard_size": args.shard_size,
        "repeats": args.repeats,
        "rows": rows,
        "breakdown_images_per_s": parts,
        "ceiling_over_plain_folder": ceiling,
        "max_abs_difference_folder": difference,
        "goal": SPEED_GOAL,
        "goal_source": rows[goal_row]["source"],
        "passed": rows[goal_row]["ratio"] >= SPEED_GOAL,
    }


# ----------------------------------------------------------------------------- memory


def generator_source(count, seed):
    """A tf.data source of `count` images made CHUNK at a time from one make_shapes chunk
    (rotated by k * 90 degrees and flipped: 8 variants), never holding the whole set."""
    import numpy as np
    import tensorflow as tf

    import tfxai

    base = tfxai.datasets.make_shapes(CHUNK, seed=seed).images

    def chunks():
        for number, start in enumerate(range(0, count, CHUNK)):
            chunk = np.rot90(base[: count - start], number % 4, axes=(1, 2))
            yield np.ascontiguousarray(chunk[:, :, ::-1] if number // 4 % 2 else chunk)

    spec = tf.TensorSpec((None, 96, 96, 3), tf.float32)
    return tf.data.Dataset.from_generator(chunks, output_signature=spec)


def child_main(args):
    """One memory run in this fresh process: prints a result line for the parent."""
    import tfxai

    model = load_model()
    baseline = rss_kib("VmRSS")
    out = tempfile.mkdtemp(prefix="bench-dataset-rss-", dir=args.workdir)
    try:
        start = time.perf_counter()
        tfxai.explain_dataset(
            model,
            generator_source(args.child, args.seed),
            "grad_cam",
            out,
            batch_size=args.batch,
            shard_size=args.shard_size,
            progress=False,
        )
        seconds = time.perf_counter() - start
        count = len(tfxai.load_explanations(out))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    result = {
        "images": args.child,
        "explained": count,
        "peak_rss_kib": rss_kib("VmHWM"),
        "rss_before_kib": baseline,
        "seconds": seconds,
    }
    print(MARKER + json.dumps(result), flush=True)


def rss_part(args, workdir):
    """Runs every `--rss-sizes` in a fresh child process; returns the memory results."""
    runs = []
    for count in args.rss_sizes:
        print(f"# memory: {count} images in a fresh process ...", file=sys.stderr, flush=True)
        command = [sys.executable, os.path.abspath(__file__), "--child", str(count)]
        command += ["--batch", str(args.batch), "--shard-size", str(args.shard_size)]
        command += ["--seed", str(args.seed), "--workdir", workdir]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
        if not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
            runs.append({"images": count, "status": f"failed: exit {done.returncode}; {tail}"})
            continue
        runs.append(dict(json.loads(lines[-1][len(MARKER) :]), status="ok"))
    peaks = [run.get("peak_rss_kib") for run in runs]
    ok = len(runs) >= 2 and all(run["status"] == "ok" for run in runs)
    ratio = max(peaks) / min(peaks) if ok else None
    return {
        "source": f"tf.data.Dataset.from_generator of {CHUNK}-image chunks "
        "(one make_shapes chunk, rotated / flipped)",
        "runs": runs,
        "ratio": ratio,
        "goal": RSS_GOAL,
        "passed": ratio is not None and ratio <= RSS_GOAL,
    }


# ----------------------------------------------------------------------------- report


def print_speed(speed):
    print(
        f"Grad-CAM over {speed['images']} shapes images (96x96x3, `{MODEL}`), B={speed['batch']}, "
        f"shard_size={speed['shard_size']}, {os.cpu_count()} CPUs; median of "
        f"{speed['repeats']} rounds (ratio: median of per-round ratios).\n"
    )
    print("| source | plain loop img/s | explain_dataset img/s | ratio | per round | goal |")
    print("|---|---|---|---|---|---|")
    for row in speed["rows"]:
        goal = ""
        if row["source"] == speed["goal_source"]:
            verdict = "PASS" if speed["passed"] else "FAIL"
            goal = f">= {speed['goal']:.1f}x: {verdict}"
        rounds = " ".join(f"{ratio:.2f}x" for ratio in row["ratios"])
        print(
            f"| {row['source']} | {row['plain_images_per_s']:.0f} | "
            f"{row['dataset_images_per_s']:.0f} | {row['ratio']:.2f}x | {rounds} | {goal} |"
        )
    print("\n| part alone | img/s |\n|---|---|")
    for name, rate in speed["breakdown_images_per_s"].items():
        print(f"| {name} | {rate:.0f} |")
    print(
        f"\nCeiling: Grad-CAM alone / plain loop (folder) = "
        f"{speed['ceiling_over_plain_folder']:.2f}x (what explain_dataset would reach if "
        f"reading and writing cost nothing). Max |plain - explain_dataset| map difference "
        f"(folder, float16): {speed['max_abs_difference_folder']}."
    )


def print_rss(rss):
    print(f"\nPeak RSS (VmHWM) of a fresh process, source: {rss['source']}.\n")
    print("| images | peak RSS MiB | RSS before explain_dataset MiB | s | img/s | status |")
    print("|---|---|---|---|---|---|")
    for run in rss["runs"]:
        if run["status"] != "ok":
            print(f"| {run['images']} | n/a | n/a | | | {run['status']} |")
            continue
        print(
            f"| {run['images']} | {run['peak_rss_kib'] / KIB_PER_MIB:.0f} | "
            f"{run['rss_before_kib'] / KIB_PER_MIB:.0f} | {run['seconds']:.1f} | "
            f"{run['images'] / run['seconds']:.0f} | ok |"
        )
    ratio = "n/a" if rss["ratio"] is None else f"{rss['ratio']:.3f}x"
    verdict = "PASS" if rss["passed"] else "FAIL"
    print(f"\nPeak ratio (largest / smallest): {ratio}; goal <= {rss['goal']:.2f}x: {verdict}")


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-dataset-")
    os.makedirs(workdir, exist_ok=True)
    payload = {"load_before": os.getloadavg()}
    try:
        if not args.skip_speed:
            payload["speed"] = speed_part(args, workdir)
            print_speed(payload["speed"])
        if not args.skip_rss:
            payload["rss"] = rss_part(args, workdir)
            print_rss(payload["rss"])
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    payload["load_after"] = os.getloadavg()
    print(
        f"\nLoad average (1, 5, 15 min) before: "
        f"{' '.join(f'{x:.2f}' for x in payload['load_before'])}, after: "
        f"{' '.join(f'{x:.2f}' for x in payload['load_after'])}"
    )
    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
