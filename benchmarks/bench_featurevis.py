"""Race tfxai's feature visualization (`render`) against the gradient floor and the peers.

Two parts, in one process, on ResNet50(weights=None) with caffe preprocessing and the
objective "mean activation of one channel of `conv5_block3_out`" (tfxai
`channel("conv5_block3_out", c)`, one channel per image of a batch):

1. Per-step time. tfxai's compiled render step (FFT parameterization, decorrelated color,
   the standard Lucid transforms, resize to the model input, caffe preprocessing, the
   model with the layer captured, one Adam step) against the *floor*: one compiled
   `tf.function` that runs `keras.Model(model.input, layer.output)` on a prepared input
   tensor of the model's input size and returns the gradient of the channel means with
   respect to that input. The full model's forward+backward (`model(x)` to the softmax
   output, gradient of one output unit per image w.r.t. the input) is also shown for
   reference. Goal from the issue: tfxai/floor <= 1.10x.

   Rows: every `--sizes` x `--batches`. The 224 px rows use `ResNet50(weights=None)`
   (224x224 input, classifier head). The other sizes use `ResNet50(weights=None,
   include_top=False, input_shape=(size, size, 3))` with the same weights, so a "128 px"
   row really runs the network at 128 px. `--resize-rows` adds, for each smaller size,
   rows where tfxai renders that size on the fixed-224 classifier (it resizes the image
   to 224 before the model, so its floor is the 224 floor).

2. End to end, 50 steps (`--e2e-steps`) of one `conv5_block3_out` filter at 224 px,
   batch 1: wall time of the whole call, setup and tracing included, for tfxai
   `render(...)` (cache cleared first), tf-keras-vis `ActivationMaximization` and xplique
   `Objective.channel` + `optimize`; then `--e2e-repeats` more calls of each, in turn,
   median reported (warm: tfxai reuses its compiled step; tf-keras-vis runs eagerly
   anyway; xplique builds a new sub-model and a new `tf.function` at every `optimize`, so
   it traces again). The floor x 50 (fifty floor calls) is timed in the same rounds, split
   around tfxai's call (25 floor steps, the call, 25 floor steps), so that a drift of the
   machine's speed hits both alike; tfxai warm / (floor x 50) is the median of the
   per-round ratios. Goals from the issue: faster than xplique, at least 3x faster than
   tf-keras-vis; and tfxai warm <= 1.10 x (floor x 50).

Setup:

    pip install -r benchmarks/requirements.txt && pip install --no-deps xplique==2.0.2

Usage:

    python benchmarks/bench_featurevis.py                        # everything (~6-8 min)
    python benchmarks/bench_featurevis.py --sizes 224 --batches 1 --skip-peers
    python benchmarks/bench_featurevis.py --breakdown --skip-e2e # where tfxai's time goes
    python benchmarks/bench_featurevis.py --json benchmarks/results/featurevis.json

Timing of part 1: every series is traced and warmed up first (`--warmup` untimed steps);
then the series of a row are run in turn, `--steps` consecutive calls each, `--repeats`
rounds (the order reversed every other round), and the median seconds per step is
reported; the ratios are the medians of the per-round ratios. tfxai's series calls the compiled
step of the `_Step` that `render` cached in `tfxai.featurevis.render._cache` exactly as
`render`'s loop does (a fresh `[seed, step]` tensor each call, the channel ids as graph
inputs), so no tracing is counted; the `.numpy()` of the last result ends each series.
The per-call overhead of `render` itself (setup, final evaluation, copies to numpy) shows
in part 2 as warm tfxai / floor x 50. `--breakdown` adds three series per row: tfxai with
`transforms=None`, tfxai with `transforms=None, param="pixel", decorrelate=False`, and the
image pipeline alone (FFT param -> standard transforms -> resize -> caffe, forward and
backward, no model).

The peers run with their own defaults apart from the number of steps, the size and the
layer/channel: tf-keras-vis optimizes the raw 224x224 input (jitter + rotate input
modifiers in numpy/scipy, total-variation and L1 regularizers, RMSprop) through
`ExtractIntermediateLayer("conv5_block3_out")` with `clone=False`, scoring
`CategoricalScore(c)` (the channel's mean); xplique uses its FFT parameterization, its
standard transforms and Adam(0.05), with `custom_shape=(224, 224)` (its default is
512x512) and `values_range` set to the caffe input range. xplique draws from TF's global
seed, set once before its first call: `tf.random.set_seed` clears TensorFlow's eager
caches, and when it ran before every xplique call, the next floor and tfxai calls of the
next round paid for re-instantiating their compiled functions (~1 s of "fixed cost" per
tfxai call). A failing peer is reported as "error: ..." and the run goes on.
"""

import argparse
import gc
import importlib
import os
import platform
import statistics
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from bench_cam import summary, write_json  # noqa: E402

_peers.quiet_tensorflow()

LAYER = _peers.LAYER
PREPROCESS = "caffe"
# Caffe-preprocessed pixels of [0, 255] RGB lie in about [-123.7, 151.1].
CAFFE_RANGE = (-123.68, 151.061)
STEP_GOAL = 1.10  # tfxai per step <= 1.10 x the floor
E2E_FLOOR_GOAL = 1.10  # a warm 50-step render <= 1.10 x fifty floor steps
TKV_GOAL = 3.0  # tf-keras-vis / tfxai >= 3
XPL_GOAL = 1.0  # xplique / tfxai > 1 (tfxai faster)
PEERS = ("tf-keras-vis", "xplique")


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[128, 224],
        help="image sizes of part 1 (default: 128 224)",
    )
    parser.add_argument(
        "--batches",
        type=int,
        nargs="+",
        default=[1, 4],
        help="batch sizes of part 1, one channel per image (default: 1 4)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=30,
        help="timed steps per series and round in part 1 (default 30)",
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="untimed steps after tracing, per series (default 3)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds of part 1; the median is reported (default 3)",
    )
    parser.add_argument(
        "--channel",
        type=int,
        default=0,
        help="first channel; image i of a batch gets channel + i (default 0)",
    )
    parser.add_argument(
        "--resize-rows",
        action="store_true",
        help="part 1: also render each size < 224 on the fixed-224 "
        "classifier (tfxai resizes to 224)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="part 1: also time tfxai without transforms, with a pixel "
        "parameterization, and the image pipeline without the model",
    )
    parser.add_argument("--skip-e2e", action="store_true", help="skip part 2")
    parser.add_argument(
        "--e2e-steps", type=int, default=50, help="steps of the end-to-end race (default 50)"
    )
    parser.add_argument(
        "--e2e-repeats",
        type=int,
        default=5,
        help="warm calls of each tool after the first; the median is reported (default 5)",
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="part 2 without tf-keras-vis and xplique"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- models


def build_models(sizes, seed):
    """`{size: model}`: the 224 classifier, and a headless twin per other size.

    The headless twins carry the classifier's weights (the convolutional trunk is the
    same), so every row runs the same network.
    """
    import keras

    models = {224: _peers.build_resnet50(seed)}
    for size in sizes:
        if size != 224 and size not in models:
            trunk = keras.applications.ResNet50(
                weights=None, include_top=False, input_shape=(size, size, 3)
            )
            for layer in trunk.layers:
                if layer.weights:
                    layer.set_weights(models[224].get_layer(layer.name).get_weights())
            models[size] = trunk
    return models


def channels_for(batch, first):
    return [first + i for i in range(batch)]


# --------------------------------------------------------------------------- part 1


def make_floor(model, size, batch, channels, seed, full=False):
    """`run(n)`: n calls of a compiled forward+backward pass to the input.

    `full=False` (the floor): `keras.Model(model.input, LAYER output)` forward, gradient
    of each image's channel mean (`channels[i]` for image i) with respect to the input.
    `full=True` (for reference): the whole `model` forward (head and softmax included),
    gradient of the output unit `channels[i]` of each image. Inputs are prepared once:
    caffe-range uniform noise of the model's input size.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    net = model if full else keras.Model(model.inputs, model.get_layer(LAYER).output)
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.uniform(*CAFFE_RANGE, (batch, size, size, 3)).astype("float32"))
    ids = tf.constant(channels, tf.int32)

    @tf.function(
        input_signature=[tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec(ids.shape, tf.int32)]
    )
    def gradient(images, ids):
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(images)
            out = net(images, training=False)
            picked = tf.gather(out, ids, axis=out.shape.rank - 1, batch_dims=1)
            values = tf.reduce_mean(picked, axis=list(range(1, picked.shape.rank)))
        return tape.gradient(values, images)

    def run(n):
        for _ in range(n):
            grads = gradient(x, ids)
        if n:
            grads.numpy()

    return run


def make_tfxai_step(model, size, batch, channels, seed, warmup, **options):
    """`run(n)`: n calls of tfxai's cached compiled step, as `render`'s loop makes them.

    `render(..., steps=warmup)` traces and caches the step; the `_Step` is then taken from
    `tfxai.featurevis.render._cache`.
    """
    import tensorflow as tf

    render_lib = importlib.import_module("tfxai.featurevis.render")
    objectives = importlib.import_module("tfxai.featurevis.objectives")
    objective = objectives.channel(LAYER, channels if batch > 1 else channels[0])
    options = {"preprocess": PREPROCESS, **options}
    render_lib.render(
        model, objective, size=size, steps=max(warmup, 1), seed=seed, progress=False, **options
    )
    # `render` leaves the step it used last in the cache (inserted, or moved to the end).
    owner, compiled = next(reversed(render_lib._cache.values()))
    if owner() is not model or compiled.image.shape != (batch, size, size, 3):
        raise RuntimeError("the compiled step is not last in tfxai.featurevis.render._cache")
    params = tf.nest.map_structure(tf.constant, objective.bind(batch))
    counter = [warmup]

    def run(n):
        for _ in range(n):
            counter[0] += 1
            values = compiled.step(tf.constant([seed, counter[0]], tf.int64), params)
        values.numpy()

    return run


def make_pipeline(model_size, size, batch, seed):
    """`run(n)`: the image pipeline alone (FFT param -> standard transforms -> resize ->
    caffe -> gradient back to the spectrum), compiled, without the model."""
    import tensorflow as tf

    param = importlib.import_module("tfxai.featurevis.param")
    transforms = importlib.import_module("tfxai.featurevis.transforms")
    preprocessing = importlib.import_module("tfxai.featurevis.preprocessing")
    image = param.image(size, batch, seed=seed)
    prep, _ = preprocessing.preprocessor(PREPROCESS)
    weights = tf.random.stateless_normal((batch, model_size, model_size, 3), [seed, 1])

    @tf.function(input_signature=[tf.TensorSpec([2], tf.int64)])
    def step(step_seed):
        with tf.GradientTape() as tape:
            x = transforms.STANDARD(image(), step_seed)
            x = prep(tf.image.resize(x, (model_size, model_size)))
            loss = tf.reduce_sum(x * weights)
        return tape.gradient(loss, image.variables)[0]

    counter = [0]

    def run(n):
        for _ in range(n):
            counter[0] += 1
            grads = step(tf.constant([seed, counter[0]], tf.int64))
        grads.numpy()

    return run


def time_rounds(series, steps, repeats):
    """Median seconds per step of each `run(n)`, and the per-round samples.

    The series run in turn, `steps` calls each, in order on even rounds and in reverse
    order on odd rounds, so a steady drift of the machine's speed hits them alike.
    """
    samples = {name: [] for name in series}
    order = list(series)
    for round_ in range(repeats):
        for name in order if round_ % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            series[name](steps)
            samples[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(values) for name, values in samples.items()}, samples


def paired_ratio(samples, name, reference):
    """Median over rounds of `name / reference` within each round (drift cancels)."""
    return statistics.median(a / b for a, b in zip(samples[name], samples[reference]))


def bench_step_row(label, model, model_size, size, batch, args):
    """Times tfxai's step and the floors for one row; returns a result dict."""
    channels = channels_for(batch, args.channel)
    row = {
        "row": label,
        "size": size,
        "model_input": model_size,
        "batch": batch,
        "channels": channels,
        "model": model.name,
        "status": {},
    }
    series = {"floor": make_floor(model, model_size, batch, channels, args.seed)}
    has_head = model.outputs[0] is not model.get_layer(LAYER).output
    if has_head:
        series["floor_full"] = make_floor(model, model_size, batch, channels, args.seed, full=True)
    builders = {"tfxai": {}}
    if args.breakdown:
        builders["tfxai_no_transforms"] = {"transforms": None}
        builders["tfxai_pixel_no_transforms"] = {
            "transforms": None,
            "param": "pixel",
            "decorrelate": False,
        }
    for name, options in builders.items():
        try:
            series[name] = make_tfxai_step(
                model, size, batch, channels, args.seed, args.warmup, **options
            )
        except Exception as error:  # report, keep the floors
            row["status"][name] = f"error: {summary(error)}"
    if args.breakdown:
        series["pipeline"] = make_pipeline(model_size, size, batch, args.seed)
    for run in series.values():  # trace / warm up everything before timing
        run(args.warmup)
    row["seconds"], row["samples"] = time_rounds(series, args.steps, args.repeats)
    samples = row["samples"]
    row["ratios"] = {}
    for name in samples:
        if name.startswith("tfxai"):
            row["ratios"][f"{name}/floor"] = paired_ratio(samples, name, "floor")
            if "floor_full" in samples:
                row["ratios"][f"{name}/floor_full"] = paired_ratio(samples, name, "floor_full")
    value = row["ratios"].get("tfxai/floor")
    row["goal"] = {
        "goal": f"tfxai/floor <= {STEP_GOAL:.2f}x",
        "met": None if value is None else value <= STEP_GOAL,
    }
    return row


# --------------------------------------------------------------------------- part 2


def tfxai_e2e(model, channel, steps, seed):
    """One whole `render` call; returns the images."""
    render_lib = importlib.import_module("tfxai.featurevis.render")
    objectives = importlib.import_module("tfxai.featurevis.objectives")
    return render_lib.render(
        model,
        objectives.channel(LAYER, channel),
        size=224,
        steps=steps,
        preprocessing=PREPROCESS,
        seed=seed,
        progress=False,
    ).images


def make_tkv(model, channel, steps, seed):
    """`(build, call)` for tf-keras-vis: build() -> visualizer; call(visualizer) -> images."""
    import numpy as np

    am_module = _import("tf_keras_vis.activation_maximization", "tf-keras-vis")
    modifiers = _import("tf_keras_vis.utils.model_modifiers", "tf-keras-vis")
    scores = _import("tf_keras_vis.utils.scores", "tf-keras-vis")

    def build():
        return am_module.ActivationMaximization(
            model, model_modifier=modifiers.ExtractIntermediateLayer(LAYER), clone=False
        )

    def call(visualizer):
        np.random.seed(seed)  # its Jitter draws from numpy's global generator
        return np.asarray(visualizer(scores.CategoricalScore(channel), steps=steps))

    return build, call


def make_xplique(model, channel, steps, seed):
    """`(build, call)` for xplique: build() -> objective; call(objective) -> images."""
    import numpy as np
    import tensorflow as tf

    fv = _import("xplique.features_visualizations", "xplique")

    def build():
        # Seeded once, here: tf.random.set_seed clears TensorFlow's eager caches, so every
        # compiled function called after it (the floor's, tfxai's step and scoring) is
        # instantiated and optimized by Grappler again, ~0.4-0.8 s each at 224 px.
        tf.random.set_seed(seed)
        return fv.Objective.channel(model, LAYER, channel)

    def call(objective):
        images, _ = fv.optimize(
            objective, nb_steps=steps, custom_shape=(224, 224), values_range=CAFFE_RANGE
        )
        return np.asarray(images[-1])

    return build, call


def _import(module, library):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise _peers.Unavailable(f"{library} not installed ({error})") from error


def bench_e2e(model, args):
    """Part 2: cold and warm end-to-end calls of each tool, and the floor x steps."""
    render_lib = importlib.import_module("tfxai.featurevis.render")
    steps, channel = args.e2e_steps, args.channel
    result = {
        "steps": steps,
        "channel": channel,
        "cold": {},
        "warm": {},
        "status": {},
        "warm_samples": {},
    }
    floor = make_floor(model, 224, 1, [channel], args.seed)
    floor(2)  # trace, and warm TF's kernels up before any tool's first call
    tools = {"tfxai": (lambda: None, lambda _: tfxai_e2e(model, channel, steps, args.seed))}
    if not args.skip_peers:
        for name, maker in (("tf-keras-vis", make_tkv), ("xplique", make_xplique)):
            try:
                tools[name] = maker(model, channel, steps, args.seed)
            except _peers.Unavailable as error:
                result["status"][name] = f"n/a ({error})"
    render_lib.clear_cache()
    built = {}
    for name, (build, call) in tools.items():
        print(f"# e2e {name} (cold) ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            state = build()
            images = call(state)
        except Exception as error:  # report a broken peer, keep racing the others
            result["status"][name] = f"error: {summary(error)}"
            result["traceback_" + name] = _traceback(error)
            continue
        result["cold"][name] = time.perf_counter() - start
        result["status"][name] = f"ok, images {tuple(images.shape)}"
        built[name] = state
    warm_rounds(
        result,
        floor,
        {name: (lambda c=tools[name][1], s=built[name]: c(s)) for name in built},
        steps,
        args.e2e_repeats,
    )
    result["goals"] = e2e_goals(result)
    return result


def warm_rounds(result, floor, calls, steps, repeats):
    """Times `repeats` rounds of warm calls into `result` (in place).

    A round: floor(steps // 2), tfxai, floor(the rest), then each peer. The two floor
    halves make the round's floor x steps, and tfxai's ratio to it is taken within the
    round: a drift of the machine's speed during the round hits both sides alike. Python's
    garbage is collected before each timed call, so no call pays for another's.
    """
    samples = {name: [] for name in ["floor_x_steps", *calls]}
    ratios = []
    for _ in range(repeats):
        print("# e2e warm round ...", file=sys.stderr, flush=True)
        first = _seconds(lambda: floor(steps // 2))
        tfxai = _seconds(calls["tfxai"]) if "tfxai" in calls else None
        floor_time = first + _seconds(lambda: floor(steps - steps // 2))
        samples["floor_x_steps"].append(floor_time)
        if tfxai is not None:
            samples["tfxai"].append(tfxai)
            ratios.append(tfxai / floor_time)
        for name, call in calls.items():
            if name != "tfxai":
                samples[name].append(_seconds(call))
    result["warm_samples"] = samples
    result["warm"] = {name: statistics.median(v) for name, v in samples.items() if v}
    result["floor_x_steps"] = result["warm"].pop("floor_x_steps", None)
    result["warm_over_floor_samples"] = ratios
    result["warm_over_floor"] = statistics.median(ratios) if ratios else None


def _seconds(call):
    gc.collect()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _traceback(error):
    import traceback

    return "".join(traceback.format_exception(type(error), error, error.__traceback__))[-3000:]


def e2e_goals(result):
    """The issue's part-2 goals, evaluated on the cold and on the warm times."""
    goals = [floor_goal(result)]
    for phase in ("cold", "warm"):
        times = result[phase]
        for peer, bound, text in (
            ("xplique", XPL_GOAL, f"faster than xplique (xplique/tfxai > {XPL_GOAL:.1f}x)"),
            (
                "tf-keras-vis",
                TKV_GOAL,
                f">= {TKV_GOAL:.0f}x faster than tf-keras-vis (tkv/tfxai >= {TKV_GOAL:.1f}x)",
            ),
        ):
            if "tfxai" in times and peer in times:
                ratio = times[peer] / times["tfxai"]
                met = ratio > bound if peer == "xplique" else ratio >= bound
            else:
                ratio, met = None, None
            goals.append({"phase": phase, "goal": text, "ratio": ratio, "met": met})
    return goals


# --------------------------------------------------------------------------- report


def fmt_ms(seconds):
    return "n/a" if seconds is None else f"{seconds * 1000:.1f}"


def fmt_s(seconds):
    return "n/a" if seconds is None else f"{seconds:.2f}"


def fmt_ratio(value):
    return "n/a" if value is None else f"{value:.2f}x"


def verdict(met):
    return {True: "PASS", False: "FAIL", None: "not measured"}[met]


def step_table(rows, breakdown):
    header = [
        "row",
        "model input",
        "B",
        "floor->layer ms",
        "floor full ms",
        "tfxai ms/step",
        "tfxai/floor",
        "tfxai/full",
    ]
    if breakdown:
        header += ["no-transforms ms", "pixel+no-tr ms", "pipeline-only ms"]
    header.append("goal")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        s, r = row["seconds"], row["ratios"]
        tfxai = fmt_ms(s["tfxai"]) if "tfxai" in s else row["status"].get("tfxai", "n/a")
        cells = [
            row["row"],
            f"{row['model_input']} ({row['model']})",
            str(row["batch"]),
            fmt_ms(s["floor"]),
            fmt_ms(s.get("floor_full")) if "floor_full" in s else "= layer (no head)",
            tfxai,
            fmt_ratio(r.get("tfxai/floor")),
            fmt_ratio(r.get("tfxai/floor_full")),
        ]
        if breakdown:
            for name in ("tfxai_no_transforms", "tfxai_pixel_no_transforms"):
                cells.append(
                    fmt_ms(s[name]) + f" ({fmt_ratio(r.get(name + '/floor'))})"
                    if name in s
                    else row["status"].get(name, "n/a")
                )
            cells.append(fmt_ms(s.get("pipeline")))
        cells.append(f"{row['goal']['goal']}: {verdict(row['goal']['met'])}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def e2e_table(result):
    floor = result["floor_x_steps"]
    cold, warm = result["cold"], result["warm"]
    header = [
        "tool",
        "first call s",
        "warm call s",
        "first/floor",
        "warm/floor",
        "first vs tfxai",
        "warm vs tfxai",
        "status",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.append(
        "| "
        + " | ".join([f"floor x {result['steps']}", "", fmt_s(floor), "", "1.00x", "", "", ""])
        + " |"
    )
    for name in ("tfxai",) + PEERS:
        status = result["status"].get(name)
        if status is None:
            continue
        if name not in cold:
            lines.append(f"| {name} | {status} |  |  |  |  |  |  |")
            continue

        def over(a, b):
            return None if a is None or b is None else a / b

        cells = [
            name,
            fmt_s(cold.get(name)),
            fmt_s(warm.get(name)),
            fmt_ratio(over(cold.get(name), floor)),
            fmt_ratio(over(warm.get(name), floor)),
            fmt_ratio(over(cold.get(name), cold.get("tfxai"))),
            fmt_ratio(over(warm.get(name), warm.get("tfxai"))),
            status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def floor_goal(result):
    """The goal on tfxai warm / (floor x steps), the median of the per-round ratios."""
    ratio = result.get("warm_over_floor")
    return {
        "phase": "warm",
        "goal": f"tfxai warm / (floor x {result['steps']}) <= {E2E_FLOOR_GOAL:.2f}x",
        "ratio": ratio,
        "met": None if ratio is None else ratio <= E2E_FLOOR_GOAL,
    }


def floor_table(result):
    """tfxai warm / (floor x steps): the median of the per-round ratios, and the goal."""
    goal = floor_goal(result)
    rounds = " ".join(fmt_ratio(r) for r in result["warm_over_floor_samples"]) or "n/a"
    return "\n".join(
        [
            "| measure | median | per round | goal |",
            "|---|---|---|---|",
            f"| tfxai warm / (floor x {result['steps']}) | {fmt_ratio(goal['ratio'])} | "
            f"{rounds} | <= {E2E_FLOOR_GOAL:.2f}x: {verdict(goal['met'])} |",
        ]
    )


def environment(args):
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "versions": _peers.versions(),
        "layer": LAYER,
        "preprocess": PREPROCESS,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "e2e_steps": args.e2e_steps,
        "e2e_repeats": args.e2e_repeats,
        "seed": args.seed,
        "channel": args.channel,
    }


def loadavg():
    try:
        return tuple(round(v, 2) for v in os.getloadavg())
    except OSError:
        return None


def print_report(env, rows, e2e, args):
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    print(
        f"ResNet50(weights=None), preprocess={PREPROCESS}, objective "
        f"channel({LAYER!r}, c), {env['cpus']} CPUs, Python {env['python']}; {versions}"
    )
    print(
        f"load average (1, 5, 15 min): start {env['load_start']}, end {env['load_end']}; "
        f"wall {env['wall_seconds']:.0f} s"
    )
    start, end = env["load_start"], env["load_end"]
    if (start and start[0] > 0.5 * env["cpus"]) or (end and end[0] > env["cpus"] + 1):
        # This run keeps about `cpus` threads busy: more than that is someone else.
        print(
            "NOTE: other processes were loading the machine during this run: absolute "
            "times are inflated and noisy; read the paired ratios."
        )
    print()
    if rows:
        print(
            f"## Per step: median of {args.repeats} rounds of {args.steps} steps "
            f"(after tracing + {args.warmup} warm-up steps); ratios: median of the "
            f"per-round ratios\n"
        )
        print(step_table(rows, args.breakdown))
        print(
            "\nfloor->layer: compiled forward to conv5_block3_out + gradient of the channel "
            "means w.r.t. the input, same batch and input size. floor full: the whole "
            "classifier forward to the softmax + gradient of one output per image w.r.t. the "
            "input. tfxai: the cached compiled render step (FFT param, standard transforms, "
            "resize, caffe, model with the layer captured, Adam)."
        )
    if e2e is not None:
        print(
            f"\n## End to end: {e2e['steps']} steps, channel {e2e['channel']} of {LAYER}, "
            f"224 px, batch 1 (first call includes setup + tracing; warm = median of "
            f"{args.e2e_repeats} later call(s))\n"
        )
        print(e2e_table(e2e))
        print(
            f"\nwarm/floor in the table: ratio of the medians. Below: the median of the "
            f"per-round ratios (floor x {e2e['steps']} split around each tfxai call).\n"
        )
        print(floor_table(e2e))
        print()
        for goal in e2e["goals"]:
            print(
                f"- {goal['phase']}: {goal['goal']}: {fmt_ratio(goal['ratio'])} "
                f"{verdict(goal['met'])}"
            )
        for name in PEERS:
            if f"traceback_{name}" in e2e:
                print(f"\n{name} failed:\n{e2e['traceback_' + name]}")


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    _peers.disable_progress_bars()
    env = environment(args)
    env["load_start"] = loadavg()
    models = build_models(args.sizes, args.seed)
    plan = []
    for size in args.sizes:
        for batch in args.batches:
            plan.append((f"{size} px", models[size], size, size, batch))
    if args.resize_rows:
        for size in args.sizes:
            if size < 224:
                for batch in args.batches:
                    plan.append((f"{size} px -> 224", models[224], 224, size, batch))
    rows = []
    for label, model, model_size, size, batch in plan:
        print(f"# step {label} B={batch} ...", file=sys.stderr, flush=True)
        rows.append(bench_step_row(label, model, model_size, size, batch, args))
        gc.collect()
    e2e = None if args.skip_e2e else bench_e2e(models[224], args)
    env["load_end"] = loadavg()
    env["wall_seconds"] = time.perf_counter() - start
    print_report(env, rows, e2e, args)
    if args.json:
        write_json(args.json, {"environment": env, "rows": rows, "e2e": e2e})


if __name__ == "__main__":
    main()
