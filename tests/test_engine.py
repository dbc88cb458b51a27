"""Layer resolution, capture without mutation, no retracing and no memory growth."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import SIZE, get_model
from tfxai import engine, layer_lookup


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
    with pytest.warns(UserWarning, match=r"'resnet50/conv5_block3_out', the last 4-D layer"):
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


def _residual_model():
    """`Input(6, 6, 2) -> y = conv_a(x) + conv_b(x)` (the `+` is a Keras `Add` *operation*,
    not a layer, as in ConvNeXt) `-> GAP -> Dense(2)`."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((6, 6, 2), name="image")
    branch = keras.layers.Conv2D(3, 3, padding="same", name="conv_a")(inputs)
    skip = keras.layers.Conv2D(3, 1, name="conv_b")(inputs)
    summed = branch + skip
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(summed)
    return keras.Model(inputs, keras.layers.Dense(2, name="logits")(pooled), name="residual")


def test_the_operations_of_a_functional_model_are_listed_and_resolved():
    model = _residual_model()
    (add,) = [op for op in model.operations if not isinstance(op, keras.layers.Layer)]
    paths = tfxai.layer_paths(model)
    assert [path for path, _ in paths] == ["image", "conv_a", "conv_b", add.name, "pool", "logits"]
    assert paths[3][1] is add and type(add).__name__ == "Add"
    assert engine.resolve_layer(model, add.name) is add
    assert engine.resolve_layer(model, add) is add
    assert engine.resolve_layer(model, None) is add  # not conv_b: the sum is the block output
    assert engine.resolve_layer(model, -1) is model.layers[-1]  # indices count layers only
    # Nested: the backbone's op is found by its path, and is the default.
    backbone = keras.Model(model.input, model.get_layer("pool").input, name="backbone")
    inputs = keras.Input((6, 6, 2))
    outer = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(backbone(inputs))))
    assert engine.resolve_layer(outer, f"backbone/{add.name}") is add
    assert engine.resolve_layer(outer, None) is add
    assert engine.layer_path(outer, add) == f"backbone/{add.name}"


def test_an_operation_is_captured_with_the_value_of_its_sum():
    """Grad-CAM on the `+` op, by hand: A = conv_a(x) + conv_b(x); the score of class t is
    `sum_k W[k, t] mean_ij A_ijk + b_t`, so its gradient is `W[k, t] / 36` everywhere and
    Grad-CAM is `relu(sum_k W[k, t] / 36 * A_k)`."""
    model = _residual_model()
    images = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype(np.float32)
    summed = (model.get_layer("conv_a")(images) + model.get_layer("conv_b")(images)).numpy()
    kernel = model.get_layer("logits").kernel.numpy()  # (3, 2)
    targets = [0, 1]
    expected = np.stack(
        [np.maximum(summed[i] @ (kernel[:, t] / 36.0), 0) for i, t in enumerate(targets)]
    )
    maps = tfxai.grad_cam(model, images, target=targets, normalize=False)
    explainer = tfxai.GradCAM(model)
    assert explainer.engine.layer is model.operations[3]
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)
    assert np.ptp(expected, axis=(1, 2)).min() > 0  # the map varies: the check can fail
    branch_only = tfxai.grad_cam(model, images, target=targets, layer="conv_b", normalize=False)
    assert not np.allclose(branch_only, expected, atol=1e-3)  # the old default differs
    assert not any("call" in vars(op) for op in model.operations)


def _two_stage_model(size):
    """An Inception-like net: block `mixed1` (two branches, concatenated), then a reduction
    block `mixed2` whose branches end in a 3x3 stride-3 conv and a 3x3 max pool."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(inputs)
    a = keras.layers.Conv2D(4, 1, activation="relu", name="mixed1_a")(x)
    b = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="mixed1_b")(x)
    x = keras.layers.Concatenate(name="mixed1")([a, b])
    a = keras.layers.Conv2D(4, 1, activation="relu", name="mixed2_a1")(x)
    a = keras.layers.Conv2D(4, 3, strides=3, activation="relu", name="mixed2_a2")(a)
    b = keras.layers.MaxPooling2D(3, strides=3, name="mixed2_pool")(x)
    x = keras.layers.Concatenate(name="mixed2")([a, b])
    outputs = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs, name="two_stage")


def test_a_1x1_last_stage_falls_back_to_the_last_block_output_with_a_warning():
    # At 4 px, mixed2 and its branch ends are 1x1 but mixed2_a1 (inside the reduction
    # block, 4x4) is not: the default is mixed1, the block output before it, not mixed2_a1.
    small = _two_stage_model(4)
    on_main = layer_lookup.main_path_filter(small)
    assert [on_main(p) for p in ("stem", "mixed1", "mixed1_a", "mixed2_a1", "mixed2")] == [
        True,
        True,
        False,
        False,
        True,
    ]
    with pytest.warns(
        UserWarning, match=r"'mixed2', the last 4-D layer .* is 1x1 .* using 'mixed1' \(4x4\)"
    ):
        assert engine.resolve_layer(small, None).name == "mixed1"
    # At 12 px mixed2 is 4x4: the default is the last layer, no warning.
    large = _two_stage_model(12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine.resolve_layer(large, None).name == "mixed2"
    with pytest.warns(UserWarning, match="using 'mixed1'"):
        maps = tfxai.grad_cam(small, np.random.default_rng(1).random((2, 4, 4, 3)), target=[0, 1])
    assert np.all(np.isfinite(maps)) and maps.shape == (2, 4, 4)
    # A 1x1 head after a global pool (MobileNet's top) is passed over without a warning.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="features")(inputs)
    x = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
    pooled_head = keras.Model(inputs, keras.layers.Conv2D(3, 1, name="classifier")(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine.resolve_layer(pooled_head, None).name == "features"


def test_the_layers_command_lists_an_operation_as_the_default(tmp_path, capsys):
    """`tfxai layers model.keras` on a saved model whose last spatial step is `x + y`."""
    from tfxai import cli

    model = _residual_model()
    path = tmp_path / "residual.keras"
    model.save(path)
    assert cli.main(["layers", str(path), "--spatial"]) == 0
    rows = [row.split() for row in capsys.readouterr().out.splitlines()]
    add = next(op.name for op in keras.models.load_model(path).operations if "add" in op.name)
    assert [row[0] for row in rows[1:-1]] == ["image", "conv_a", "conv_b", add]
    assert rows[4][1:] == ["Add", "(op)", "(None,", "6,", "6,", "3)", "default"]
