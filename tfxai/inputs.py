"""Input checking and batching shared by every explainer.

Explainers accept numpy arrays, `tf.Tensor`s and `tf.data.Dataset`s of image batches.
Bad input fails here, with the argument named, before anything reaches TensorFlow.
"""

import numbers

import numpy as np
import tensorflow as tf


def expected_image_shape(model):
    """The `(H, W, C)` the model declares for its input (entries may be `None`)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    if len(inputs) > 1:
        raise ValueError(f"model: {model.name!r} has {len(inputs)} inputs; tfxai explains "
                         f"single-input image models.")
    return tuple(inputs[0].shape[1:])


def as_numeric_array(value, name):
    """A numeric numpy array (tensors converted), or a `TypeError` naming `name`."""
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a numeric array, got {type(value).__name__} "
                        f"({err}).") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a numeric array, got dtype {array.dtype}.")
    return array


def as_image_batch(inputs, model, name="inputs"):
    """Checks a batch of images and returns it as a float32 numpy array `(B, H, W, C)`.

    Args:
        inputs: Array-like or `tf.Tensor` of shape `(B, H, W, C)`.
        model: The Keras model the images are for (its declared input shape is checked).
        name: String, default "inputs". The argument name used in error messages.

    Returns:
        A float32 C-contiguous numpy array.

    Raises:
        TypeError: If `inputs` is not numeric.
        ValueError: On a wrong rank, channel count or image size, an empty batch, or
            NaN/Inf values.
    """
    array = as_numeric_array(inputs, name)
    if array.ndim != 4:
        hint = " (a single image? pass inputs[None])" if array.ndim == 3 else ""
        raise ValueError(f"{name}: expected a batch of images of shape (batch, height, width, "
                         f"channels), got shape {array.shape}{hint}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name}: the batch is empty (shape {array.shape}); expected at least "
                         f"one image.")
    expected = expected_image_shape(model)
    if expected is not None:
        for axis, (got, want) in enumerate(zip(array.shape[1:], expected)):
            if want is not None and got != want:
                what = ("channels", "height", "width")[(axis + 1) % 3]
                raise ValueError(
                    f"{name}: model {model.name!r} expects images of shape "
                    f"{tuple(expected)} but got {tuple(array.shape[1:])} ({what} differ).")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ValueError(f"{name}: contains {bad} NaN or Inf values; expected finite pixels.")
    return array


def split_batches(images, batch_size):
    """Yields consecutive slices of at most `batch_size` images of a checked array.

    Raises:
        ValueError: If `batch_size` is not a positive integer.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive integer, got {batch_size!r}.")
    for start in range(0, len(images), batch_size):
        yield images[start:start + batch_size]


def check_dataset(dataset, name="inputs"):
    """Refuses a dataset that would never end, and one whose elements are not batches.

    Raises:
        ValueError: If `dataset` is infinite (`repeat()` without a count), or its
            elements are dicts or unbatched images.
    """
    if int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY:
        raise ValueError(f"{name}: the dataset is infinite (e.g. .repeat() without a count) "
                         f"and would never end; pass a finite one, e.g. dataset.take(n).")
    spec = dataset.element_spec
    images = spec[0] if isinstance(spec, (tuple, list)) else spec
    if isinstance(images, dict) or not isinstance(images, tf.TensorSpec):
        raise ValueError(f"{name}: expected dataset elements `x` or `(x, y, ...)` with `x` a "
                         f"batch of images, got elements of type {type(images).__name__}.")
    if images.shape.rank == 3:
        raise ValueError(f"{name}: the dataset yields single images of shape "
                         f"{tuple(images.shape)}; batch it first, e.g. dataset.batch(32).")
    return dataset


def dataset_batches(dataset, model, batch_size, name="inputs"):
    """Yields checked float32 batches of at most `batch_size` images from a dataset.

    Elements are `x` or `(x, y, ...)` batches; each is checked like `as_image_batch`.

    Raises:
        ValueError: On an infinite or empty dataset, dict or unbatched elements.
    """
    empty = True
    for element in check_dataset(dataset, name):
        images = element[0] if isinstance(element, (tuple, list)) else element
        empty = False
        yield from split_batches(as_image_batch(images, model, name), batch_size)
    if empty:
        raise ValueError(f"{name}: the dataset is empty; expected at least one batch of "
                         f"images.")


def slice_params(params, start, stop):
    """Slices every per-sample parameter array along its batch axis."""
    return tf.nest.map_structure(lambda a: a[start:stop], params)


def positive_int(value, name):
    """Returns `value` as an int, or raises `ValueError` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}.")
    return int(value)


def int_pair(value, name):
    """An int or a pair of ints `(h, w)`, all positive, as a tuple of two ints."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                             or v < 1 for v in pair):
        raise ValueError(f"{name}: expected a positive integer or a pair of positive "
                         f"integers (height, width), got {value!r}.")
    return int(pair[0]), int(pair[1])


def non_negative_float(value, name):
    """Returns `value` as a finite float >= 0, or raises `ValueError` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}.")
    return float(value)


def check_seed(seed):
    """Returns `seed` as an int >= 0, or raises `ValueError`."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}.")
    return int(seed)
