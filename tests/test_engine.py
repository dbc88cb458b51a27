"""Layer resolution, capture without mutation, no retracing and no memory growth."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import SIZE, get_model
from tfxai import engine


def test_resolve_layer_by_name_path_index_object_and_none():
    model = get_model("nested")
    backbone = model.layers[0]
    conv = backbone.get_layer("conv4_block6_out")
    assert engine.resolve_layer(model, "resnet50/conv4_block6_out") is conv
    assert engine.resolve_layer(model, "conv4_block6_out") is conv
    assert engine.resolve_layer(model, conv) is conv
    assert engine.resolve_layer(model, 0) is backbone
    assert engine.resolve_layer(model, -1) is model.layers[-1]
    # conv5_block3_out is 1x1 at 32 px: the default is the last layer larger than that.
    assert engine.resolve_layer(model, None) is backbone.get_layer("conv4_block6_out")
    assert engine.layer_path(model, conv) == "resnet50/conv4_block6_out"


def test_resolve_layer_rejects_foreign_and_ambiguous_layers():
    model = get_model("sequential")
    with pytest.raises(ValueError, match=r"layer: the layer object 'stranger' is not part"):
        engine.resolve_layer(model, keras.layers.Dense(2, name="stranger"))
    twin = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 1, name="c")], name="a")
    other = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 1, name="c")], name="b"
    )
    both = keras.Sequential([keras.Input((4, 4, 1)), twin, other])
    with pytest.raises(ValueError, match=r"ambiguous.*a/c, b/c"):
        engine.resolve_layer(both, "c")
    assert engine.resolve_layer(both, "b/c") is other.layers[0]


def test_subclassed_default_layer_is_found_by_tracing():
    model = get_model("subclassed")
    assert engine.resolve_layer(model, None) is model.features.layers[-1]


def test_to_logits_finds_softmax_and_sigmoid_inputs():
    for activation, function in [("softmax", "softmax"), ("sigmoid", "sigmoid")]:
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(3, activation=activation)(inputs))
        x = np.array([[1.0, -2.0, 0.5]], np.float32)
        logits = model.layers[-1].kernel.numpy().T @ x[0] + model.layers[-1].bias.numpy()

        @tf.function
        def graph_logits(batch):
            return engine.to_logits(model(batch))

        np.testing.assert_allclose(graph_logits(x).numpy()[0], logits, rtol=1e-5)
        np.testing.assert_allclose(engine.to_logits(model(x)).numpy()[0], logits, rtol=1e-5)


def test_repeated_calls_never_retrace():
    model = get_model("functional")
    explainer = tfxai.GradCAMPlusPlus(model)
    rng = np.random.default_rng(1)
    for batch, target in [(3, None), (3, [0, 1, 2]), (5, 4), (1, [2]), (3, None), (8, 1)]:
        explainer(rng.uniform(size=(batch, SIZE, SIZE, 3)), target=target)
    # one graph for the predicted class, one for class ids; batch sizes share them
    assert explainer.engine.traces == 2


def test_function_form_reuses_its_compiled_explainer():
    model = get_model("sequential")
    images = np.zeros((2, SIZE, SIZE, 3), np.float32)
    tfxai.clear_cache()
    for _ in range(3):
        tfxai.xgrad_cam(model, images, target=[1, 2])
    (explainer,) = tfxai.cam.base._cache.values()
    assert explainer.engine.traces == 1


def _rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_memory_does_not_grow_over_100_calls():
    model = get_model("functional")
    explainer = tfxai.GradCAM(model)
    images = np.random.default_rng(2).uniform(size=(4, SIZE, SIZE, 3)).astype(np.float32)
    for _ in range(20):
        explainer(images, target=[0, 1, 2, 3])
    start = _rss_kib()
    for _ in range(100):
        explainer(images, target=[0, 1, 2, 3])
    growth = (_rss_kib() - start) / start
    assert growth < 0.10, f"RSS grew {growth:.1%} over 100 calls"


def test_a_call_attribute_left_by_another_tool_is_kept():
    """Other libraries (xplique) leave an instance `call` on a layer; tfxai keeps it."""
    model = get_model("functional")
    layer = model.get_layer("conv2")
    left_behind = layer.call  # a bound method stored on the instance, as xplique leaves it
    object.__setattr__(layer, "call", left_behind)
    try:
        images = np.random.default_rng(3).uniform(size=(2, SIZE, SIZE, 3))
        maps = tfxai.GradCAM(model, layer="conv2")(images, target=[0, 1], normalize=False)
        assert vars(layer)["call"] is left_behind
        object.__delattr__(layer, "call")
        expected = tfxai.GradCAM(model, layer="conv2")(images, target=[0, 1], normalize=False)
        np.testing.assert_allclose(maps, expected, rtol=1e-5)
    finally:
        vars(layer).pop("call", None)
