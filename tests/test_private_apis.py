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
