"""Model preprocessing applied to rendered images (in [0, 1]) inside the graph."""

import warnings

import tensorflow as tf

from tfxai.viz.deprocess import CAFFE_MEAN_BGR, MODES, TORCH_MEAN_RGB, TORCH_STD_RGB


def _caffe(x):
    # tf.reverse, not x[..., ::-1]: the same values, a cheaper gradient than StridedSlice's.
    return tf.reverse(x, [-1]) * 255.0 - tf.constant(CAFFE_MEAN_BGR, tf.float32)


def _tf(x):
    return x * 2.0 - 1.0


def _torch(x):
    return (x - tf.constant(TORCH_MEAN_RGB, tf.float32)) / tf.constant(TORCH_STD_RGB, tf.float32)


_FUNCTIONS = dict(zip(MODES, (_caffe, _tf, _torch)))


def preprocessor(preprocess, channels=3, name="preprocess"):
    """The preprocessing function for a `preprocessing` option, and its name.

    Args:
        preprocess: `None` (identity: the model takes [0, 1] images), `"caffe"` (BGR,
            0-255, ImageNet mean subtracted: Keras' ResNet50 and VGG), `"tf"` ([-1, 1]),
            `"torch"` (ImageNet mean/std), or a callable on float32 `(B, H, W, C)` tensors.
            The three named modes are for 3-channel RGB models.
        channels: Integer, default 3. The model's input channel count.
        name: String, default "preprocess". The argument's name in error messages.

    Returns:
        `(fn, name)`: a callable on `[0, 1]` image tensors and a string for settings.

    Raises:
        ValueError: On an unknown name or another type, or a named mode with
            `channels != 3`.

    Example:
        >>> fn, name = preprocessor("tf")
        >>> float(fn(tf.constant(1.0)))
        1.0
    """
    if preprocess is None:
        return (lambda x: x), "none"
    if isinstance(preprocess, str) and preprocess in _FUNCTIONS:
        if channels != 3:
            raise ValueError(
                f"{name}: {preprocess!r} is for 3-channel RGB models; the "
                f"model takes {channels} channel(s); expected None or a "
                f"callable on ({channels}-channel) [0, 1] images."
            )
        return _FUNCTIONS[preprocess], preprocess
    if callable(preprocess) and not isinstance(preprocess, str):
        return preprocess, getattr(preprocess, "__name__", repr(preprocess))
    raise ValueError(
        f"{name}: expected None, 'caffe', 'tf', 'torch' or a callable, got {preprocess!r}."
    )


def spelled(preprocessing, preprocess):
    """`(value, name)` of the preprocessing option from its two spellings.

    `preprocess=` is the former spelling of `preprocessing=` (docs/names.md): it still
    works, with a `DeprecationWarning`, and errors then name it as the caller wrote it.

    Raises:
        TypeError: When both spellings are given.
    """
    if preprocess is None:
        return preprocessing, "preprocessing"
    if preprocessing is not None:
        raise TypeError(
            "preprocess: the former spelling of preprocessing; got both, expected one "
            "(preprocessing=)."
        )
    warnings.warn(
        "preprocess= is deprecated: use preprocessing= (the same option, docs/names.md).",
        DeprecationWarning,
        stacklevel=3,
    )
    return preprocess, "preprocess"
