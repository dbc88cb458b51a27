"""Write images to disk."""

from __future__ import annotations

import os
import uuid
from typing import Any

import numpy as np
from PIL import Image

from tfxai.viz import _checks


def save_png(path: str | os.PathLike[str], array: Any) -> str | os.PathLike[str]:
    """Writes an image array to a PNG file, atomically.

    The image is written to a temporary file in the destination directory and
    moved into place with `os.replace`, so readers never see a partial file.
    Missing parent directories are created.

    Args:
        path: String or `os.PathLike`, the destination file.
        array: Array of shape `(H, W)`, `(H, W, 1)` (grayscale) or
            `(H, W, 3)` (RGB). Either integers in [0, 255] (typically uint8)
            or floats in [0, 1], which are scaled by 255 and rounded.

    Returns:
        String, the path written.

    Raises:
        ValueError: If `array` has the wrong shape or dtype, contains NaN or
            infinite values, or is out of range; if `path` is in a folder that
            cannot be created or written (the cause is named).

    Example:

    >>> save_png("out/cam.png", overlay(image, heatmap))
    'out/cam.png'
    """
    array = _checks.as_real_array(array, "array")
    _checks.check_image_shape(array, "array")
    if np.issubdtype(array.dtype, np.integer):
        pixels = _checks.integers_to_uint8(array, "array")
    else:
        _checks.check_finite(array, "array")
        _checks.check_range(array, "array", 0, 1)
        pixels = _checks.unit_floats_to_uint8(array)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    image = Image.fromarray(np.ascontiguousarray(pixels))

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    fd = _create(directory, tmp, path)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _create(directory: str, tmp: str, path: str | os.PathLike[str]) -> int:
    """Creates `directory` and the new file `tmp`; returns its descriptor.

    Raises:
        ValueError: Naming `path`, when the folder cannot be created (a file is in the
            way) or the file cannot be written there (no permission, ...).
    """
    try:
        os.makedirs(directory, exist_ok=True)
        # os.open with 0o666 honours the umask, unlike tempfile's 0o600.
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise ValueError(
            f"path: cannot write {path!r} ({err.strerror or err}); expected a path "
            f"in a folder that can be created and written."
        ) from None
