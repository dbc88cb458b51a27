"""Bad input fails early with a clear error naming the argument; the model is untouched."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfxai
from tests.conftest import SIZE, assert_unchanged, get_model, snapshot

CASES = {
    "rank": (dict(inputs=np.zeros((SIZE, SIZE, 3))), ValueError, r"inputs: .*pass inputs\[None\]"),
    "channels": (dict(inputs=np.zeros((2, SIZE, SIZE, 1))), ValueError, r"inputs: .*channels"),
    "size": (dict(inputs=np.zeros((2, 16, SIZE, 3))), ValueError, r"inputs: .*height"),
    "nan": (dict(inputs=np.full((2, SIZE, SIZE, 3), np.nan)), ValueError, r"inputs: .*NaN"),
    "inf": (dict(inputs=np.full((1, SIZE, SIZE, 3), np.inf)), ValueError, r"inputs: .*Inf"),
    "empty": (dict(inputs=np.zeros((0, SIZE, SIZE, 3))), ValueError, r"inputs: .*empty"),
    "strings": (dict(inputs=np.array([["a"]])), TypeError, r"inputs: .*numeric"),
    "unknown_layer": (dict(layer="conv_2"), ValueError, r"layer: no layer 'conv_2'.*conv2"),
    "dense_layer": (dict(layer="logits"), ValueError, r"layer: 'logits' has an output of shape"),
    "layer_index": (dict(layer=40), ValueError, r"layer: index 40 is out of range"),
    "layer_type": (dict(layer=2.5), TypeError, r"layer: expected a name"),
    "class_range": (dict(target=7), ValueError, r"target: class index 7 is out of range.*\[0, 4\]"),
    "class_negative": (dict(target=[0, -1]), ValueError, r"target: class index -1"),
    "target_length": (dict(target=[0, 1, 2]), ValueError, r"target: expected one class index per sample \(2"),
    "target_type": (dict(target=1.5), TypeError, r"target: expected None, an int"),
    "target_bool": (dict(target=True), TypeError, r"target: expected a class index"),
    "target_shape": (dict(target=lambda y: y), ValueError, r"target: .*shape \(batch,\)"),
    "batch_size": (dict(batch_size=0), ValueError, r"batch_size: expected a positive integer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_argument(case):
    model = get_model("sequential")
    before = snapshot(model)
    call = dict(inputs=np.zeros((2, SIZE, SIZE, 3), np.float32), target=None, layer=None,
                batch_size=32)
    overrides, error, message = CASES[case]
    call.update(overrides)
    with pytest.raises(error, match=message):
        tfxai.grad_cam(model, **call)
    assert_unchanged(before, model)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def test_multi_output_needs_output():
    model = get_model("multi_output")
    images = np.zeros((1, SIZE, SIZE, 3), np.float32)
    with pytest.raises(ValueError, match=r"output: model 'multi_output' has 2 outputs"):
        tfxai.grad_cam(model, images)
    with pytest.raises(ValueError, match=r"output: model 'multi_output' has outputs \['classes', 'box'\]"):
        tfxai.grad_cam(model, images, output="scores")
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))
    assert tfxai.grad_cam(model, images, output="box").shape == (1, SIZE, SIZE)


def test_nested_unknown_layer_suggests_nested_paths():
    with pytest.raises(ValueError, match=r"resnet50/conv5_block3_out"):
        tfxai.GradCAM(get_model("nested"), layer="conv5_block3_ou")


def test_model_must_be_a_keras_model():
    with pytest.raises(TypeError, match=r"model: expected a keras.Model, got function"):
        tfxai.grad_cam(lambda x: x, np.zeros((1, SIZE, SIZE, 3)))


def test_top_n_is_checked():
    model = get_model("sequential")
    with pytest.raises(ValueError, match=r"top_n: expected None or a positive integer"):
        tfxai.ScoreCAM(model, top_n=0)
    with pytest.raises(ValueError, match=r"top_n: layer 'conv2' has 16 channels, got top_n=99"):
        tfxai.score_cam(model, np.zeros((1, SIZE, SIZE, 3)), top_n=99)


def test_mask_score_checks_the_mask():
    model = get_model("sequential")
    with pytest.raises(ValueError, match=r"mask: expected shape \(H, W\)"):
        tfxai.mask_score(1, np.zeros(5))
    with pytest.raises(ValueError, match=r"mask: contains NaN"):
        tfxai.mask_score(1, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match=r"target: mask_score needs a dense"):
        tfxai.grad_cam(model, np.zeros((1, SIZE, SIZE, 3)), target=tfxai.mask_score(1, np.ones((4, 4))))


def test_layer_off_the_output_path_is_reported():
    inputs = keras.Input((SIZE, SIZE, 3))
    side = keras.layers.Conv2D(2, 3, name="side")(inputs)
    main = keras.layers.Conv2D(2, 3, name="main")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(main)
    model = keras.Model(inputs, [keras.layers.Dense(3)(pooled),
                                 keras.layers.GlobalAveragePooling2D()(side)])
    with pytest.raises(ValueError, match=r"layer: the target does not depend on layer 'side'"):
        tfxai.grad_cam(model, np.ones((1, SIZE, SIZE, 3)), layer="side", output=0)


def test_non_tensorflow_backend_fails_at_import_with_the_fix():
    """Keras reports another backend (as it does under KERAS_BACKEND=jax): clear ImportError."""
    code = "import keras; keras.backend.backend = lambda: 'jax'; import tfxai"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode != 0
    assert "ImportError: tfxai needs the TensorFlow backend" in result.stderr
    assert "KERAS_BACKEND=tensorflow" in result.stderr and "'jax'" in result.stderr
