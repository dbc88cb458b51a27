"""Turn model inputs back into displayable uint8 RGB images."""

from __future__ import annotations

from typing import Any

import numpy as np

from tfxai.viz import _checks

# The ImageNet statistics of `keras.applications.imagenet_utils.preprocess_input`.
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])
TORCH_MEAN_RGB = np.array([0.485, 0.456, 0.406])
TORCH_STD_RGB = np.array([0.229, 0.224, 0.225])

MODES = ("caffe", "tf", "torch")


def _check_mode(mode: str, name: str) -> None:
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"{name}: expected one of 'caffe', 'tf' or 'torch', got {mode!r}")


def _invert(x: np.ndarray, mode: str) -> np.ndarray:
    """Inverts `preprocess_input(mode=mode)` on a float64 channels-last array."""
    if mode == "tf":
        rgb = (x + 1.0) * 127.5
    elif mode == "torch":
        rgb = (x * TORCH_STD_RGB + TORCH_MEAN_RGB) * 255.0
    else:  # caffe: the input is BGR and mean-centred, not scaled.
        rgb = (x + CAFFE_MEAN_BGR)[..., ::-1]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def deprocess(x: Any, mode: str) -> np.ndarray:
    """Inverts Keras `preprocess_input` and returns uint8 RGB images.

    Undoes `keras.applications.imagenet_utils.preprocess_input(x, mode=mode)`
    for channels-last arrays:

    - `"caffe"`: adds back the ImageNet mean `[103.939, 116.779, 123.68]`
      (BGR order) and converts BGR to RGB.
    - `"tf"`: maps [-1, 1] back to [0, 255] (`(x + 1) * 127.5`).
    - `"torch"`: multiplies by the std `[0.229, 0.224, 0.225]`, adds the mean
      `[0.485, 0.456, 0.406]` and scales by 255.

    Values are rounded to the nearest integer and clipped to [0, 255].

    Args:
        x: Float array of shape `(H, W, 3)` or `(B, H, W, 3)`, channels last,
            as produced by `preprocess_input`.
        mode: String, one of `"caffe"`, `"tf"` or `"torch"`.

    Returns:
        A uint8 RGB array with the shape of `x`.

    Raises:
        ValueError: If `mode` is unknown, or `x` has the wrong shape or dtype,
            or contains NaN or infinite values.

    Example:

    >>> x = np.zeros((2, 2, 3), "float32")  # "tf" mode: 0 is mid-grey.
    >>> deprocess(x, "tf")[0, 0]
    array([128, 128, 128], dtype=uint8)
    """
    _check_mode(mode, "mode")
    x = _checks.as_real_array(x, "x")
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise ValueError(
            f"x: expected shape (H, W, 3) or (B, H, W, 3) (channels last), got {x.shape}"
        )
    _checks.check_finite(x, "x")
    return _invert(x.astype(np.float64), mode)


def to_uint8_image(image: Any, preprocessing: str | None = None) -> np.ndarray:
    """Converts an image in any common convention to uint8 RGB.

    How values are read:

    - Integer dtypes (uint8 included) must already lie in [0, 255].
    - Floats with `preprocessing=None`: if every value lies in [0, 1] the image
      is read as [0, 1] and multiplied by 255; otherwise every value must lie
      in [0, 255] and is used as is. So a float [0, 255] image whose values
      are all <= 1 (nearly black) is read as [0, 1]: pass uint8 to avoid that.
      Values below 0 or above 255 raise, since they usually mean the image
      is a preprocessed model input.
    - Floats with `preprocessing="caffe"|"tf"|"torch"`: inverted with
      `deprocess`, whatever their range.

    Float results are rounded to the nearest integer. Grayscale images
    `(H, W)` or `(H, W, 1)` are repeated into 3 channels.

    Args:
        image: Array of shape `(H, W)`, `(H, W, 1)` or `(H, W, 3)`.
        preprocessing: String or None, default None. The
            `keras.applications` `preprocess_input` mode that produced
            `image` (`"caffe"`, `"tf"` or `"torch"`), or None for plain pixels.

    Returns:
        A uint8 RGB array of shape `(H, W, 3)`.

    Raises:
        ValueError: If `image` has the wrong shape or dtype, contains NaN or
            infinite values, or is out of range; if `preprocessing` is unknown
            or is given for a grayscale image.

    Example:

    >>> to_uint8_image(np.array([[0.0, 0.5, 1.0]]))[0, :, 0]
    array([  0, 128, 255], dtype=uint8)
    """
    if preprocessing is not None:
        _check_mode(preprocessing, "preprocessing")
    image = _checks.as_real_array(image, "image")
    _checks.check_image_shape(image, "image")
    _checks.check_finite(image, "image")
    if image.ndim == 2:
        image = image[..., np.newaxis]

    if preprocessing is not None:
        if image.shape[-1] != 3:
            raise ValueError(
                f"image: preprocessing={preprocessing!r} expects 3 channels, "
                f"got shape {image.shape}"
            )
        return _invert(image.astype(np.float64), preprocessing)

    if np.issubdtype(image.dtype, np.integer):
        pixels = _checks.integers_to_uint8(image, "image")
    else:
        lo, hi = image.min(), image.max()
        if lo < 0 or hi > 255:
            raise ValueError(
                "image: float values must lie in [0, 1] or [0, 255], got values "
                f"in [{lo:g}, {hi:g}]; for a preprocessed model input pass "
                "preprocessing='caffe', 'tf' or 'torch'"
            )
        scale = 255.0 if hi <= 1.0 else 1.0
        pixels = np.rint(image.astype(np.float64) * scale).astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels
