"""The Keras internals tfxai relies on (listed in tfxai/engine.py's docstring): each test
fails loudly, naming the internal, if a Keras release changes it."""

import keras
import numpy as np
import tensorflow as tf

from tfxai import engine


def test_an_instance_call_shadows_the_layer_call():
    layer = keras.layers.Dense(2)
    x = np.ones((1, 3), np.float32)
    layer(x)
    seen = []
    with engine.shadow_calls([layer], lambda lay, out: seen.append(lay) or out * 0.0):
        shadowed = layer(x)
    assert seen == [layer], "Keras no longer calls an instance attribute `call` (shadow_calls)"
    assert np.all(np.asarray(shadowed) == 0) and "call" not in vars(layer)


def test_softmax_and_sigmoid_results_carry_keras_logits():
    for activation in ("softmax", "sigmoid"):
        layer = keras.layers.Activation(activation)

        @tf.function
        def traced(z, layer=layer):
            out = layer(z)
            assert getattr(out, "_keras_logits", None) is not None, (
                f"Keras no longer sets _keras_logits on {activation} results (to_logits)"
            )
            return engine.to_logits(out)

        z = tf.constant([[0.5, -1.0, 2.0]])
        np.testing.assert_allclose(traced(z).numpy(), z.numpy())


def test_a_subclassed_model_records_its_build_shapes():
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, inputs):
            return self.conv(inputs)

    model = Tiny()
    model(np.zeros((1, 9, 7, 3), np.float32))
    shapes = getattr(model, "_build_shapes_dict", None)
    assert shapes, "Keras no longer records _build_shapes_dict (_model_input_shape)"
    assert engine._model_input_shape(model)[1:] == (9, 7, 3)


def test_a_layer_gets_an_integer_model_input_cast_to_float():
    """`float_pixels` swaps the float pixels in for the Cast that Keras' autocast puts
    between an integer input and the first layer's `call`."""
    inputs = keras.Input((4, 4, 1), dtype="uint8")
    layer = keras.layers.Rescaling(0.5)
    model = keras.Model(inputs, layer(inputs))
    seen = []

    def observe(args, kwargs):
        seen.append((args[0].dtype, args[0].op.type))
        return args, kwargs

    @tf.function
    def traced(x):
        with engine.shadow_calls([layer], on_inputs=observe):
            return model(tf.cast(x, tf.uint8))

    traced(tf.zeros((1, 4, 4, 1)))
    assert seen == [(tf.float32, "Cast")], (
        f"Keras no longer autocasts an integer model input to float before the layer's "
        f"call (float_pixels); the layer got {seen}"
    )


def _sum_model():
    inputs = keras.Input((3, 3, 1), name="image")
    a = keras.layers.Conv2D(1, 1, name="a")(inputs)
    b = keras.layers.Conv2D(1, 1, name="b")(inputs)
    summed = a + b  # a keras.Operation (ops.numpy.Add), not a layer
    return keras.Model(inputs, keras.layers.Flatten(name="flat")(summed))


def test_a_functional_model_lists_its_operations_and_an_op_call_can_be_shadowed():
    """`layer_paths` reads `model.operations` (keras.Function) for the ops that are not
    layers; `shadow_calls` relies on `Operation.__call__` looking `call` up on the instance."""
    model = _sum_model()
    ops = getattr(model, "operations", None)
    assert isinstance(ops, list) and len(ops) == len(model.layers) + 1, (
        "Keras no longer lists a Functional model's non-layer operations in `operations` "
        "(layer_lookup.children)"
    )
    (add,) = [op for op in ops if not isinstance(op, keras.layers.Layer)]
    assert isinstance(add, keras.Operation) and add.output.shape == (None, 3, 3, 1)
    x = np.ones((1, 3, 3, 1), np.float32)
    seen = []

    @tf.function
    def traced(batch):
        with engine.shadow_calls([add], lambda op, out: seen.append(op) or out * 0.0):
            return model(batch)

    assert np.all(traced(x).numpy() == 0) and seen == [add], (
        "Keras no longer calls an operation's instance attribute `call` (shadow_calls)"
    )
    assert "call" not in vars(add)


def test_a_functional_model_keeps_its_graph_in_nodes_by_depth():
    """`graph_edges` reads `_nodes_by_depth` (nodes with `operation`, `is_input`,
    `parent_nodes`) and the outputs' `_keras_history`."""
    from tfxai.keras_private import graph_edges

    model = _sum_model()
    assert isinstance(getattr(model, "_nodes_by_depth", None), dict), (
        "Keras no longer keeps a Functional model's nodes in _nodes_by_depth (graph_edges)"
    )
    edges = {(getattr(p, "name", None), getattr(c, "name", None)) for p, c in graph_edges(model)}
    add = next(op.name for op in model.operations if not isinstance(op, keras.layers.Layer))
    assert edges == {
        (None, "image"),
        ("image", "a"),
        ("image", "b"),
        ("a", add),
        ("b", add),
        (add, "flat"),
        ("flat", None),
    }, f"graph_edges no longer reads the Functional graph: {edges}"
    assert graph_edges(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])) is None
