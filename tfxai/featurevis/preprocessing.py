"""Model preprocessing applied to rendered images (RGB in [0, 1]) inside the graph."""

import tensorflow as tf

from tfxai.viz.deprocess import CAFFE_MEAN_BGR, MODES, TORCH_MEAN_RGB, TORCH_STD_RGB


def _caffe(x):
    return x[..., ::-1] * 255.0 - tf.constant(CAFFE_MEAN_BGR, tf.float32)


def _tf(x):
    return x * 2.0 - 1.0


def _torch(x):
    return ((x - tf.constant(TORCH_MEAN_RGB, tf.float32))
            / tf.constant(TORCH_STD_RGB, tf.float32))


_FUNCTIONS = dict(zip(MODES, (_caffe, _tf, _torch)))


def preprocessor(preprocess):
    """The preprocessing function for a `preprocess` option, and its name.

    Args:
        preprocess: `None` (identity: the model takes [0, 1] RGB), `"caffe"` (BGR,
            0-255, ImageNet mean subtracted: Keras' ResNet50 and VGG), `"tf"` ([-1, 1]),
            `"torch"` (ImageNet mean/std), or a callable on float32 `(B, H, W, 3)` tensors.

    Returns:
        `(fn, name)`: a callable on `[0, 1]` RGB tensors and a string for settings.

    Raises:
        ValueError: On an unknown name or another type.
    """
    if preprocess is None:
        return (lambda x: x), "none"
    if isinstance(preprocess, str) and preprocess in _FUNCTIONS:
        return _FUNCTIONS[preprocess], preprocess
    if callable(preprocess) and not isinstance(preprocess, str):
        return preprocess, getattr(preprocess, "__name__", repr(preprocess))
    raise ValueError(f"preprocess: expected None, 'caffe', 'tf', 'torch' or a callable, "
                     f"got {preprocess!r}.")
