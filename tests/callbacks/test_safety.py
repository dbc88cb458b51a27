"""The callbacks never stop or change training: failures warn, bad arguments fail before
epoch 1, weights are bit-identical with and without them; strategies and mixed precision."""

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests import conftest as shared
from tests.callbacks.conftest import fresh_model

REPO = Path(__file__).resolve().parents[2]


def test_a_failing_explainer_warns_once_per_epoch_and_training_goes_on(data, tmp_path):
    images, labels, _ = data
    calls = []

    def flaky(model, inputs, target=None):
        calls.append(len(calls))
        if len(calls) in (2, 3):  # epochs 1 and 2 fail; the check and epoch 3 work
            raise RuntimeError(f"disk on fire #{len(calls)}")
        return tfxai.grad_cam(model, inputs, target, layer="conv2")

    callback = tfxai.ExplanationCallback(flaky, images[:2], log_dir=tmp_path)
    model = fresh_model("sequential")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(images, labels, epochs=3, batch_size=8, verbose=0, callbacks=[callback])
    assert len(history.history["loss"]) == 3
    ours = [str(w.message) for w in caught if "ExplanationCallback" in str(w.message)]
    assert ours == [
        "ExplanationCallback skipped epoch 1: RuntimeError: disk on fire #2 (training goes on).",
        "ExplanationCallback skipped epoch 2: RuntimeError: disk on fire #3 (training goes on).",
    ]
    run = tmp_path / "tfxai_flaky"
    assert sorted(p.name for p in run.glob("epoch_*.png")) == ["epoch_0003.png"]
    assert [label for label, _ in callback.timeline] == ["start", "epoch 3"]


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda x, d: tfxai.ExplanationCallback("gradcam", x, log_dir=d),
            "method: unknown method 'gradcam'",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("grad_cam", x, log_dir=d, top_n=3),
            "top_n: not an option of 'grad_cam'",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("saliency", x, log_dir=d, layer="conv2"),
            "layer: 'saliency' explains the input pixels and takes no layer",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("grad_cam", x, log_dir=d / "file" / "sub"),
            "log_dir: cannot write to",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("grad_cam", x, log_dir=d, freq=0),
            "freq: expected a positive integer, got 0",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("grad_cam", x, target="labels", log_dir=d),
            "target: 'labels' needs class labels",
        ),
        (
            lambda x, d: tfxai.ExplanationCallback("grad_cam", x[0], log_dir=d),
            r"inputs: expected a non-empty batch of images \(batch, height, width, channels\), "
            r"got shape \(32, 32, 3\)",
        ),
        (lambda x, d: tfxai.ExplanationCallback("grad_cam", x, log_dir=d, alpha=2), "alpha"),
        (
            lambda x, d: tfxai.FeatureVisCallback(
                [tfxai.featurevis.channel("conv2", 0), "x"], log_dir=d
            ),
            "objectives: 'objective 1' is a str",
        ),
        (
            lambda x, d: tfxai.FeatureVisCallback(
                tfxai.featurevis.class_logit(0), log_dir=d, learning_rate=3
            ),
            "learning_rate: not an option of FeatureVisCallback",
        ),
    ],
)
def test_bad_arguments_fail_at_construction(build, message, data, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises((ValueError, TypeError), match=message):
        build(data[0][:2], tmp_path)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda x: tfxai.ExplanationCallback("grad_cam", x, layer="nope", log_dir=None),
            "layer: no layer 'nope'",
        ),
        (
            lambda x: tfxai.ExplanationCallback("grad_cam", x[:, :16, :16], log_dir=None),
            r"inputs: model 'sequential' expects images of shape \(32, 32, 3\)",
        ),
        (lambda x: tfxai.ExplanationCallback("grad_cam", x, target=9, log_dir=None), "target"),
        (
            lambda x: tfxai.ExplanationMetricsCallback("grad_cam", x, layer="nope"),
            "layer: no layer 'nope'",
        ),
        (
            lambda x: tfxai.FeatureVisCallback(tfxai.featurevis.channel("conv2", 99), log_dir=None),
            "channel",
        ),
    ],
)
def test_what_needs_the_model_fails_before_epoch_1(build, message, data):
    images, labels, _ = data
    model = fresh_model("sequential")
    before = [w.copy() for w in model.get_weights()]
    epochs = []

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs.append(epoch)

    with pytest.raises((ValueError, TypeError), match=message) as info:
        model.fit(images, labels, epochs=2, verbose=0, callbacks=[build(images[:2]), Count()])
    assert epochs == []
    assert any("before epoch 1" in note for note in getattr(info.value, "__notes__", []))
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


_SAME_WEIGHTS = textwrap.dedent("""
    import json, os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras, numpy as np, tensorflow as tf
    import tfxai
    from tfxai.featurevis import channel
    tf.config.experimental.enable_op_determinism()
    out = sys.argv[1]

    def train(make_callbacks):
        keras.utils.set_random_seed(11)
        rng = np.random.default_rng(0)
        x = rng.uniform(size=(64, 32, 32, 3)).astype("float32")
        y = (x[:, :16, :, 0].mean(axis=(1, 2)) > 0.5).astype("int64")
        model = keras.Sequential([
            keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu", name="c1"),
            keras.layers.BatchNormalization(), keras.layers.Dropout(0.3),
            keras.layers.Conv2D(8, 3, activation="relu", name="c2"),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, epochs=2, batch_size=16, shuffle=True, verbose=0,
                  callbacks=make_callbacks(model, x, y))
        return model.get_weights()

    masks = np.zeros((4, 32, 32), bool); masks[:, :16] = True
    runs = {
        "none": lambda m, x, y: [],
        # The control: a forward pass in training mode (BatchNorm statistics, the dropout
        # seed) must show up, or this comparison could not fail.
        "control": lambda m, x, y: [keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: m(x[:4], training=True))],
        "explanation": lambda m, x, y: [tfxai.ExplanationCallback(
            "smooth_grad", (x[:4], y[:4]), target="labels", samples=4, log_dir=out)],
        "features": lambda m, x, y: [tfxai.FeatureVisCallback(
            channel("c2", [0, 1]), steps=4, size=32, log_dir=out)],
        "metrics": lambda m, x, y: [tfxai.ExplanationMetricsCallback(
            "grad_cam", (x[:4], y[:4], masks), target="labels", layer="c2",
            metrics=("pointing_game", "deletion"), metric_options={"deletion": {"steps": 4}})],
    }
    weights = {name: train(make) for name, make in runs.items()}
    print(json.dumps({name: max(float(np.abs(a - b).max()) for a, b in
                                zip(weights["none"], w)) for name, w in weights.items()}))
""")


@pytest.mark.slow
def test_weights_are_bit_identical_with_and_without_each_callback(tmp_path):
    script = tmp_path / "same_weights.py"
    script.write_text(_SAME_WEIGHTS)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "logs")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    differences = json.loads(done.stdout.strip().splitlines()[-1])
    assert differences.pop("control") > 0
    assert differences == {"none": 0.0, "explanation": 0.0, "features": 0.0, "metrics": 0.0}


def test_under_a_mirrored_strategy(data, tmp_path):
    images, labels, masks = data
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = fresh_model("functional")
    callbacks = [
        tfxai.ExplanationCallback("grad_cam", images[:2], layer="conv2", log_dir=tmp_path),
        tfxai.ExplanationMetricsCallback(
            "grad_cam",
            (images[:4], labels[:4], masks[:4]),
            layer="conv2",
            metric_options={"deletion": {"steps": 4}},
        ),
        tfxai.FeatureVisCallback(
            tfxai.featurevis.class_logit(1), steps=4, size=32, log_dir=tmp_path
        ),
    ]
    history = model.fit(images, labels, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    assert all(c.warnings == [] for c in callbacks)
    assert len(history.history["xai_pointing_game"]) == 2
    maps = tfxai.grad_cam(model, images[:2], layer="conv2")
    np.testing.assert_allclose(
        callbacks[0].timeline[-1][1]["predicted"] / 255.0, maps, atol=1 / 255 + 1e-3
    )


def test_under_a_global_mixed_float16_policy(data, tmp_path):
    images, labels, masks = data
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = fresh_model("sequential")
        assert model.layers[0].compute_dtype == "float16"
        callbacks = [
            tfxai.ExplanationCallback("grad_cam", images[:2], layer="conv2", log_dir=tmp_path),
            tfxai.ExplanationMetricsCallback(
                "grad_cam",
                (images[:4], labels[:4], masks[:4]),
                layer="conv2",
                metric_options={"deletion": {"steps": 4}},
            ),
            tfxai.FeatureVisCallback(
                tfxai.featurevis.channel("conv2", 0), steps=4, size=32, log_dir=tmp_path
            ),
        ]
        history = model.fit(images, labels, epochs=2, batch_size=8, verbose=0, callbacks=callbacks)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(c.warnings == [] for c in callbacks)
    assert np.isfinite(history.history["xai_deletion"]).all()
    column = callbacks[0].timeline[-1][1]["predicted"]
    assert column.max() == 255  # a real, normalized map
    ((rendered, values),) = callbacks[2].timeline[-1][1].values()
    assert np.isfinite(values).all() and np.ptp(rendered) > 0


def test_the_model_is_left_as_it_was(data, tmp_path):
    images, labels, _ = data
    model = fresh_model("subclassed")
    before = shared.snapshot(model)["layers"]
    callbacks = [
        tfxai.ExplanationCallback(
            "guided_grad_cam", images[:2], log_dir=tmp_path, layer="features/conv2"
        ),
        tfxai.FeatureVisCallback(
            tfxai.featurevis.channel("features/conv2", 1), steps=2, size=32, log_dir=tmp_path
        ),
    ]
    model.fit(images, labels, epochs=1, batch_size=8, verbose=0, callbacks=callbacks)
    assert shared.snapshot(model)["layers"] == before
    assert all(c.warnings == [] for c in callbacks)
