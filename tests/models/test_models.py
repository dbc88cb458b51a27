"""Model builders: output shapes, layer names, U-Net skips, ResNet50 weights files."""

import keras
import numpy as np
import pytest

from tfxai import models


def test_shapes_classifier_layers_and_output():
    model = models.shapes_classifier()
    assert model.output.shape == (None, 5)
    block = model.get_layer("block4_out").output
    assert len(block.shape) == 4 and block.shape[1] >= 6 and block.shape[2] >= 6
    class_map = model.get_layer("class_map")  # 1x1 conv, linear scores
    assert class_map.get_config()["activation"] == "linear" and class_map.kernel_size == (1, 1)
    assert class_map.output.shape == (None, 24, 24, 5)
    out = model(np.random.default_rng(0).uniform(size=(2, 96, 96, 3)).astype("float32"))
    assert out.shape == (2, 5)
    assert models.shapes_classifier((64, 64, 3), classes=3, width=8).output.shape == (None, 3)
    with pytest.raises(ValueError, match="classes"):
        models.shapes_classifier(classes=0)


def test_shapes_gap_classifier_has_a_conventional_head():
    model = models.shapes_gap_classifier()
    assert model.output.shape == (None, 5)
    assert model.get_layer("block4_out").output.shape == (None, 12, 12, 128)
    assert isinstance(model.get_layer("avg_pool"), keras.layers.GlobalAveragePooling2D)
    head = model.get_layer("predictions")
    assert isinstance(head, keras.layers.Dense) and head.get_config()["activation"] == "softmax"
    assert [layer.name for layer in model.layers[-3:]] == ["block4_out", "avg_pool", "predictions"]
    x = np.random.default_rng(0).uniform(size=(2, 96, 96, 3)).astype("float32")
    out = np.asarray(model(x))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)  # probabilities
    # the head is exactly softmax(W . mean over positions of block4_out + b)
    features = keras.Model(model.input, model.get_layer("block4_out").output)(x)
    kernel, bias = head.get_weights()
    logits = np.asarray(features).mean(axis=(1, 2)) @ kernel + bias
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(out, expected / expected.sum(-1, keepdims=True), atol=1e-5)
    small = models.shapes_gap_classifier((64, 64, 3), classes=3, width=4)
    assert small.output.shape == (None, 3)
    assert small.get_layer("block4_out").output.shape == (None, 8, 8, 32)
    with pytest.raises(ValueError, match="width: expected an integer >= 1, got 0"):
        models.shapes_gap_classifier(width=0)


def test_unet_logits_and_skip_connections():
    model = models.unet()
    assert model.output.shape == (None, 96, 96, 6)
    logits = model.get_layer("logits")
    assert isinstance(logits, keras.layers.Conv2D) and logits.kernel_size == (1, 1)
    assert logits.get_config()["activation"] == "linear"
    for i in (1, 2, 3):
        skip = model.get_layer(f"skip{i}")
        assert isinstance(skip, keras.layers.Concatenate)
        inbound = {t._keras_history[0].name for t in skip.input}  # what feeds the concat
        assert inbound == {f"up{i}", f"enc{i}"}
    for name in ("enc1", "bottleneck", "dec1"):
        model.get_layer(name)
    x = np.random.default_rng(0).uniform(size=(2, 96, 96, 3)).astype("float32")
    out = model(x)
    assert out.shape == (2, 96, 96, 6)
    assert not np.allclose(np.asarray(out).sum(-1), 1.0)  # logits, not probabilities
    small = models.unet((32, 48, 3), num_classes=3, depth=2, filters=4)
    assert small.output.shape == (None, 32, 48, 3)
    with pytest.raises(ValueError, match="input_shape"):
        models.unet((90, 90, 3))


def test_resnet50_real_keras_application(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.resnet50(input_shape=(32, 32, 3), classes=7)
    assert model.name == "resnet50" and model.output.shape == (None, 7)
    assert model.get_layer("conv5_block3_out").output.shape == (None, 1, 1, 2048)
    raw = models.resnet50(input_shape=(32, 32, 3), classes=7, preprocessing=False)
    assert len(model.layers) == len(raw.layers) + 1

    # a weights file of the plain Keras ResNet50 loads into the [0, 1]-input model
    keras.utils.set_random_seed(1)
    plain = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=7)
    file = tmp_path / "resnet.weights.h5"
    plain.save_weights(file)
    loaded = models.resnet50(str(file), input_shape=(32, 32, 3), classes=7)
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    expected = plain(keras.applications.resnet50.preprocess_input(255.0 * x))
    np.testing.assert_allclose(loaded(x), expected, rtol=1e-4, atol=1e-6)
    for w_old, w_new in zip(plain.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(w_old, w_new)
    with pytest.raises(ValueError, match="weights"):
        models.resnet50(str(tmp_path / "missing.h5"), input_shape=(32, 32, 3))
