"""Gradients with respect to the pixels of a model whose input is an integer tensor.

A model built on `keras.Input(dtype="uint8")` turns the pixels into integers, which carry
no gradient. `float_pixels` feeds the float pixels past that cast. It relies on a Keras
internal (`Layer.__call__` autocasts an integer model input to float, a Cast op, before
`call`), held by tests/test_private_apis.py; it lives here rather than in
`tfxai.keras_private` because it walks the model's layers (`tfxai.layer_lookup`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf

from tfxai.keras_private import shadow_calls
from tfxai.layer_lookup import leaf_layers
from tfxai.model_inputs import declared_inputs


def integer_input(model: keras.Model, input: str | None = None) -> tf.DType | None:
    """The integer dtype of the model's input (`tf.uint8`, ...), or `None` for a float one.

    Args:
        model: A Keras model.
        input: String or `None` (default, the first input). The input's name (see
            `tfxai.model_inputs.image_input`).

    Returns:
        A `tf.DType`, or `None` when the input is float or not declared.
    """
    try:
        declared = dict(declared_inputs(model))
        tensor = declared[input] if input is not None else model.inputs[0]
        dtype = tf.as_dtype(tensor.dtype)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    return dtype if dtype.is_integer else None


def _comes_from(tensor, source):
    """Whether `tensor` is `source` behind only Cast/Identity ops (inside one trace)."""
    while isinstance(tensor, tf.Tensor) and hasattr(tensor, "op"):
        if tensor.name == source.name:
            return True
        if tensor.op.type not in ("Cast", "Identity") or not tensor.op.inputs:
            return False
        tensor = tensor.op.inputs[0]
    return False


@contextlib.contextmanager
def float_pixels(
    model: keras.Model, pixels: tf.Tensor, input: str | None = None
) -> Iterator[tf.Tensor]:
    """Feeds float `pixels` past the cast of a model whose input is an integer tensor.

    A model built on `keras.Input(dtype="uint8")` (rescaling inside) turns the pixels into
    integers, which carry no gradient, so every gradient with respect to the pixels would
    be zero. Inside this block the model is called on that integer tensor, and every layer
    receiving it (Keras casts it back to float for the layer) gets the float `pixels`
    instead: the same values for integer-valued images, with their gradient. For float
    input models the block does nothing. Call it inside a trace.

    Args:
        model: The Keras model.
        pixels: Float tensor `(B, H, W, C)`, the images.
        input: String or `None` (default, the first input). The image input's name, for a
            model with several inputs.

    Yields:
        The tensor to call the model with.
    """
    dtype = integer_input(model, input)
    if dtype is None:
        yield pixels
        return
    fed = tf.cast(pixels, dtype)

    def swap(value):
        if isinstance(value, tf.Tensor) and value.dtype.is_floating and _comes_from(value, fed):
            return tf.cast(pixels, value.dtype)
        return value

    def on_inputs(args, kwargs):
        return tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}

    with shadow_calls(leaf_layers(model), on_inputs=on_inputs):
        yield fed
