"""Every image model family of `keras.applications` works with the default layer.

The families are read from `keras.applications` (its model constructors, grouped by the
module that defines them), not listed by hand; each is built once with its top
(`classes=10`) and once as a nested backbone (`include_top=False` + GAP + Dense in a
Functional model), `weights=None`, at a small input. On each: the default layer
(`layer=None`) must be the one a user expects (`EXPECTED`), spatial and larger than 1x1;
Grad-CAM and saliency maps must be finite, in [0, 1] and not constant for at least one
of four targets; one feature-visualization step on the default layer (`log_energy`) must move the image.

The sweep runs in two worker processes (`sweep_in_workers`): two cores for tracing, and
the memory Keras' optimizer keeps per rendered model leaves with them.
`python -m tests.test_applications` runs the same sweep and writes the table to
benchmarks/results/applications.txt and into docs/guide/applications.md (between the
`<!-- table -->` markers); `test_the_docs_table_is_the_committed_results` checks the two
agree.
"""

from __future__ import annotations

import collections
import functools
import gc
import inspect
import json
import pathlib
import re
import subprocess
import sys
import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tfxai import layer_lookup

# The smallest variant of each family (fewest parameters, Keras' applications table); a
# family missing here is still tested, with its first variant by name.
SMALLEST = {
    "convnext": "ConvNeXtTiny",
    "densenet": "DenseNet121",
    "efficientnet": "EfficientNetB0",
    "efficientnet_v2": "EfficientNetV2B0",
    "inception_resnet_v2": "InceptionResNetV2",
    "inception_v3": "InceptionV3",
    "mobilenet": "MobileNet",
    "mobilenet_v2": "MobileNetV2",
    "mobilenet_v3": "MobileNetV3Small",
    "nasnet": "NASNetMobile",
    "resnet": "ResNet50",
    "resnet_v2": "ResNet50V2",
    "vgg16": "VGG16",
    "vgg19": "VGG19",
    "xception": "Xception",
}
SIZE = 64
# Families whose smallest input is larger than SIZE (Keras refuses below 75 / 75 / 71 px).
# At 96 px their last stage is 1x1: the default is the last block output before it.
SIZES = {"inception_v3": 96, "inception_resnet_v2": 96, "xception": 96}
# Families that are skipped, with the reason (none: every family fits in memory).
SKIPPED: dict[str, str] = {}
# Families some users look for that this Keras does not have (reported in the table).
ABSENT = {"regnet": "RegNetX / RegNetY"}
# The default layer a user expects: a name, or ("after", name) for the layer applied to
# the output of `name` (auto-named layers such as `add_17` have no stable name). The
# nested backbone expects the same name, or for ("after", ...) its output layer.
EXPECTED = {
    "convnext": ("after", "convnext_tiny_stage_3_block_2_identity"),  # the residual's Add
    "densenet": "relu",
    "efficientnet": "top_activation",
    "efficientnet_v2": "top_activation",
    "inception_resnet_v2": "block17_20_ac",  # 96 px: block8_* and conv_7b are 1x1
    "inception_v3": "mixed7",  # 96 px: mixed8-mixed10 are 1x1
    "mobilenet": "conv_pw_13_relu",
    "mobilenet_v2": "out_relu",
    "mobilenet_v3": ("after", "conv_1_bn"),  # the hard-swish after the last conv
    "nasnet": ("after", "normal_concat_12"),
    "resnet": "conv5_block3_out",
    "resnet_v2": "post_relu",
    "vgg16": "block5_pool",
    "vgg19": "block5_pool",
    "xception": "block14_sepconv2_act",
}
# Nested paths checked to give the same maps as the default (the three).
EXPLICIT_PATHS = ("efficientnet_v2", "mobilenet_v3", "convnext")
TARGETS = [0, 1, 2, 3]
WORKERS = 2  # processes the sweep runs in (CI has two cores)
# Each family's seconds in one sweep (two workers, 2 cores), to share them out evenly.
COST = {
    "convnext": 54,
    "densenet": 45,
    "nasnet": 36,
    "inception_resnet_v2": 35,
    "efficientnet_v2": 30,
    "efficientnet": 24,
    "inception_v3": 16,
    "resnet": 12,
    "resnet_v2": 11,
    "mobilenet_v3": 9,
    "mobilenet_v2": 8,
    "xception": 8,
    "mobilenet": 5,
    "vgg16": 3,
    "vgg19": 3,
}
COLUMNS = ("grad_cam", "saliency", "feature-vis step")
ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "applications.txt"
GUIDE = ROOT / "docs" / "guide" / "applications.md"


def families() -> dict[str, list[str]]:
    """`{family: [constructor names]}` for every model constructor of keras.applications."""
    found = collections.defaultdict(list)
    for name in sorted(dir(keras.applications)):
        obj = getattr(keras.applications, name)
        if name[:1].isupper() and inspect.isfunction(obj):
            found[obj.__module__.rsplit(".", 1)[-1]].append(name)
    return dict(sorted(found.items()))


def _variant(family, names):
    return SMALLEST.get(family) if SMALLEST.get(family) in names else sorted(names)[0]


def _expected(model, family, nested_in=None):
    """The layer a user expects as the default of `model` (a backbone when `nested_in`)."""
    spec = EXPECTED.get(family)
    if spec is None:
        return None
    if isinstance(spec, str):
        return model.get_layer(spec)
    if nested_in is not None:  # the backbone's output layer
        return model.outputs[0]._keras_history.operation
    source = model.get_layer(spec[1]).output
    (after,) = [
        op
        for _, op in layer_lookup.layer_paths(model)
        if any(t is source for t in keras.tree.flatten(_inputs_of(op)))
    ]
    return after


def _inputs_of(op):
    try:
        return op.input
    except (AttributeError, ValueError):
        return []


def _default(model, expected, problems, where):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = tfxai.resolve_layer(model)
    path = layer_lookup.layer_path(model, layer)
    shape = tuple(layer.output.shape)
    if len(shape) != 4 or shape[1:3] == (1, 1):
        problems.append(f"{where}: default {path!r} is {shape}, not spatial > 1x1")
    if expected is not None and layer is not expected:
        problems.append(f"{where}: default {path!r}, expected {expected.name!r}")
    note = [str(w.message).split(";")[0].removeprefix("layer: ") for w in caught]
    return layer, path, shape, note


def log_energy(path: str) -> tfxai.Target:
    """DeepDream's objective on a log scale: `log(mean(a ** 2))` of the layer at `path`.

    Its gradient is the energy's divided by the energy, so one Adam step moves the image
    even where random weights make the activations tiny (MobileNetV3Small's last block:
    ~1e-10, where `layer_energy`'s gradient is below Adam's epsilon).
    """

    def score(context, params):
        del params
        a = tf.cast(context.activation(path), tf.float32)
        return tf.math.log(tf.reduce_mean(tf.square(a), axis=[1, 2, 3]) + 1e-30)

    return tfxai.Target(
        score,
        key=("log_energy", path),
        name=f"log_energy({path!r})",
        layers=(path,),
        reads="context",
    )


def _check_maps(maps, what, problems):
    if not np.all(np.isfinite(maps)):
        problems.append(f"{what}: non-finite values")
    elif maps.min() < 0 or maps.max() > 1:
        problems.append(f"{what}: values outside [0, 1] ({maps.min()}, {maps.max()})")
    elif np.ptp(maps, axis=(1, 2)).max() <= 1e-3:
        problems.append(f"{what}: constant for every target {TARGETS}")


def _run_methods(model, path, images, problems, where, explicit=None):
    """Grad-CAM, saliency and one feature-vis step on `model`; the column verdicts."""
    status = {}
    batch = images[[i % len(images) for i in range(len(TARGETS))]]
    steps = [
        ("grad_cam", lambda: tfxai.grad_cam(model, batch, target=TARGETS)),
        ("saliency", lambda: tfxai.saliency(model, batch, target=TARGETS)),
    ]
    for column, run in steps:
        before = len(problems)
        try:
            _check_maps(run(), f"{where} {column}", problems)
        except Exception as err:  # a crash is a finding, reported in the table
            problems.append(f"{where} {column}: {type(err).__name__}: {str(err)[:200]}")
        status[column] = len(problems) == before
    if explicit is not None:  # the nested path spelled out gives the default's maps
        same = tfxai.grad_cam(model, batch, target=TARGETS, layer=explicit)
        if not np.array_equal(same, tfxai.grad_cam(model, batch, target=TARGETS)):
            problems.append(f"{where}: layer={explicit!r} differs from the default's maps")
            status["grad_cam"] = False
    before = len(problems)
    try:
        options = {"param": "pixel", "transforms": None, "progress": False}
        start = tfxai.render(model, log_energy(path), steps=0, **options)
        step = tfxai.render(model, log_energy(path), steps=1, **options)
        moved = np.abs(step.images - start.images).max()
        if not (np.all(np.isfinite(step.images)) and np.all(np.isfinite(step.values))):
            problems.append(f"{where} feature-vis: non-finite image or objective")
        elif step.images.min() < 0 or step.images.max() > 1 or moved == 0:
            problems.append(f"{where} feature-vis: image outside [0, 1] or not moved")
    except Exception as err:
        problems.append(f"{where} feature-vis: {type(err).__name__}: {str(err)[:200]}")
    status["feature-vis step"] = len(problems) == before
    return status


def check_family(family: str, names: list[str]) -> dict:
    """Builds one family's smallest variant, top and nested; returns its table row."""
    name = _variant(family, names)
    size = SIZES.get(family, SIZE)
    build = getattr(keras.applications, name)
    problems: list[str] = []
    started = time.perf_counter()
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype(np.float32)
    row = {"family": family, "variant": name, "size": size, "problems": problems}

    model = build(weights=None, input_shape=(size, size, 3), classes=10)
    layer, path, shape, note = _default(model, _expected(model, family), problems, "top")
    kind = type(layer).__name__ + ("" if isinstance(layer, keras.layers.Layer) else " op")
    row.update(default=path, shape=shape, kind=kind, note=note)
    top = _run_methods(model, path, images, problems, "top")
    del model, layer

    backbone = build(weights=None, input_shape=(size, size, 3), include_top=False)
    inputs = keras.Input((size, size, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    nested = keras.Model(inputs, keras.layers.Dense(10)(pooled), name="nested")
    expected = _expected(backbone, family, nested_in=nested)
    layer, nested_path, _, _ = _default(nested, expected, problems, "nested")
    explicit = nested_path if family in EXPLICIT_PATHS else None
    inner = _run_methods(nested, nested_path, images, problems, "nested", explicit)
    row.update(nested_default=nested_path, explicit=explicit)
    row.update({c: top[c] and inner[c] for c in COLUMNS})
    row["seconds"] = time.perf_counter() - started
    del nested, backbone, layer
    tfxai.clear_cache()
    gc.collect()
    return row


def sweep(only: list[str] | None = None, log=print) -> list[dict]:
    """Runs `check_family` on every family (or `only` these), in this process."""
    rows = []
    for family, names in families().items():
        if (only and family not in only) or family in SKIPPED:
            continue
        row = check_family(family, names)
        log(f"{family}: {row['variant']} {row['seconds']:.0f} s {row['problems'] or 'ok'}")
        rows.append(row)
    return rows


def sweep_in_workers(only: list[str] | None = None, workers: int = WORKERS) -> list[dict]:
    """Runs the sweep in `workers` fresh Python processes at once, families shared out.

    Tracing a model is single-threaded Python, so two processes use two cores; and the
    memory a render step leaves behind (~ the model's weights, in Keras' optimizer, see
    docs/guide/applications.md) goes with the process instead of staying in pytest's.
    """
    chosen = [f for f in families() if (not only or f in only) and f not in SKIPPED]
    shares: list[list[str]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for family in sorted(chosen, key=lambda f: -COST.get(f, 30)):  # longest first
        i = loads.index(min(loads))
        shares[i].append(family)
        loads[i] += COST.get(family, 30)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.test_applications", "--rows", *share],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
        if share
    ]
    rows = []
    for proc in procs:
        out, _ = proc.communicate(timeout=1800)
        assert proc.returncode == 0, f"a sweep worker failed ({proc.returncode}):\n{out}"
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return sorted(rows, key=lambda row: chosen.index(row["family"]))


def _mark(ok):
    return "yes" if ok else "**no**"


def table(rows: list[dict]) -> str:
    """The Markdown table of the sweep, then the absent and skipped families."""
    lines = [
        "| family | variant tested | input | default layer (top) | default layer (nested) "
        "| grad_cam | saliency | feature-vis step | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        shape = "x".join(str(d) for d in row["shape"][1:3])
        spec = EXPECTED.get(row["family"])
        after = f", after `{spec[1]}`" if isinstance(spec, tuple) else ""
        notes = [f"warns: {note}" for note in row["note"]]
        if row["explicit"]:
            notes.append(f'`layer="{row["explicit"]}"` gives the same maps')
        notes += row["problems"]
        note = "; ".join(notes).replace("|", "/")
        lines.append(
            f"| {row['family']} | {row['variant']} | {row['size']} px "
            f"| `{row['default']}` ({row['kind']}{after}, {shape}) | `{row['nested_default']}` "
            + " ".join(f"| {_mark(row[c])}" for c in COLUMNS)
            + f" | {note} |"
        )
    for family, label in ABSENT.items():
        if family not in families():
            lines.append(
                f"| {family} | {label} | | not in keras.applications {keras.__version__} "
                "| | | | | |"
            )
    for family, reason in SKIPPED.items():
        lines.append(f"| {family} | | | skipped: {reason} | | | | | |")
    working = sum(all(r[c] for c in COLUMNS) and not r["problems"] for r in rows)
    return "\n".join(lines) + f"\n\n{working} of {len(rows)} models working.\n"


@pytest.mark.slow
def test_every_application_family_works_with_the_default_layer():
    rows = sweep_in_workers()
    working = [r for r in rows if all(r[c] for c in COLUMNS) and not r["problems"]]
    print(f"\n{table(rows)}")
    print(f"{len(working)} of {len(rows)} models working")
    assert len(rows) == len(families()) - len(SKIPPED)
    failures = {r["variant"]: r["problems"] for r in rows if r not in working}
    assert len(working) == len(rows), f"{len(working)} of {len(rows)} working: {failures}"


def test_every_family_is_tested_or_skipped_with_a_reason():
    found = families()
    assert found, "keras.applications lists no model constructor"
    assert set(SMALLEST) | set(SKIPPED) >= set(found), (
        f"new families {sorted(set(found) - set(SMALLEST) - set(SKIPPED))}: add their "
        f"smallest variant to SMALLEST and their default to EXPECTED"
    )
    assert all(SMALLEST[f] in names for f, names in found.items() if f in SMALLEST)
    assert set(EXPECTED) >= set(found) - set(SKIPPED)


def test_the_docs_table_is_the_committed_results():
    results = RESULTS.read_text()
    guide = GUIDE.read_text()
    inside = re.search(r"<!-- table -->\n(.*?)<!-- /table -->", guide, re.S)
    assert inside, "docs/guide/applications.md lost its <!-- table --> markers"
    assert inside.group(1).strip() == results.strip(), (
        "the table in docs/guide/applications.md differs from "
        "benchmarks/results/applications.txt: run `python -m tests.test_applications`"
    )


def main(argv: list[str]) -> int:
    """Runs the sweep; writes the results file and the docs table (all families only).

    `--rows FAMILY ...` runs those families in this process and prints one JSON row
    each (what `sweep_in_workers` runs).
    """
    if argv[:1] == ["--rows"]:
        log = functools.partial(print, file=sys.stderr, flush=True)
        for row in sweep(argv[1:], log=log):
            print(json.dumps({**row, "shape": list(row["shape"])}), flush=True)
        return 0
    text = table(sweep_in_workers(argv or None))
    print(text)
    if argv:
        return 0  # a partial sweep is printed, not written
    RESULTS.write_text(
        f"Written by `python -m tests.test_applications` (keras {keras.__version__}).\n\n{text}"
    )
    guide = GUIDE.read_text()
    guide = re.sub(
        r"<!-- table -->\n.*?<!-- /table -->",
        lambda _: f"<!-- table -->\n{RESULTS.read_text()}<!-- /table -->",
        guide,
        flags=re.S,
    )
    GUIDE.write_text(guide)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
