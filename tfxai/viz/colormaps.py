"""Map heatmaps in [0, 1] to RGB colors with matplotlib colormaps."""

from __future__ import annotations

import difflib
from typing import Any

import matplotlib
import numpy as np
from matplotlib.colors import Colormap

from tfxai.viz import _checks


def get_colormap(colormap: str | Colormap) -> Colormap:
    """Returns the matplotlib `Colormap` for a name or a `Colormap` object.

    Args:
        colormap: String (any registered matplotlib colormap name, such as
            `"jet"`, `"viridis"` or `"gray"`) or a `matplotlib.colors.Colormap`.

    Returns:
        A `matplotlib.colors.Colormap`.

    Raises:
        ValueError: If the name is not a registered colormap; the closest
            names are suggested.
        TypeError: If `colormap` is neither a string nor a `Colormap`.

    Example:

    >>> get_colormap("jet").name
    'jet'
    """
    if isinstance(colormap, Colormap):
        return colormap
    if isinstance(colormap, str):
        try:
            return matplotlib.colormaps[colormap]
        except KeyError:
            close = difflib.get_close_matches(colormap, list(matplotlib.colormaps), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"colormap: unknown matplotlib colormap {colormap!r}{hint}") from None
    raise TypeError(
        "colormap: expected a matplotlib colormap name or a "
        f"matplotlib.colors.Colormap, got {type(colormap).__name__}"
    )


def check_heatmap(heatmap: Any, name: str = "heatmap") -> np.ndarray:
    """Checks a heatmap is finite and in [0, 1] and returns it as float64.

    Args:
        heatmap: Array-like of integers, floats or bools.
        name: String, default "heatmap". The argument name used in errors.

    Returns:
        A float64 numpy array with the shape of `heatmap`.

    Raises:
        ValueError: If `heatmap` is empty, not numeric, contains NaN or
            infinite values, or has values outside [0, 1].
    """
    array = np.asarray(heatmap)
    if array.dtype == bool:
        array = array.astype(np.float64)
    array = _checks.as_real_array(array, name)
    _checks.check_finite(array, name)
    _checks.check_range(array, name, 0, 1)
    return array.astype(np.float64)


def apply_colormap(heatmap: Any, colormap: str | Colormap = "jet") -> np.ndarray:
    """Colors a heatmap in [0, 1] with a matplotlib colormap.

    Args:
        heatmap: Float array of shape `(H, W)` (or a batch `(B, H, W)`) with
            values in [0, 1], such as the output of an explainer.
        colormap: String or `matplotlib.colors.Colormap`, default `"jet"`.
            Any matplotlib colormap name, or a colormap object.

    Returns:
        A uint8 RGB array of shape `heatmap.shape + (3,)`. The colormap's
        alpha channel is dropped.

    Raises:
        ValueError: If `heatmap` has the wrong rank, contains NaN or infinite
            values or has values outside [0, 1]; if `colormap` is an unknown
            name.
        TypeError: If `colormap` is neither a string nor a `Colormap`.

    Example:

    >>> apply_colormap(np.array([[0.0, 1.0]]), "gray")
    array([[[  0,   0,   0],
            [255, 255, 255]]], dtype=uint8)
    """
    cmap = get_colormap(colormap)
    heatmap = check_heatmap(heatmap)
    if heatmap.ndim not in (2, 3):
        raise ValueError(f"heatmap: expected shape (H, W) or (B, H, W), got {heatmap.shape}")
    rgb = cmap(heatmap)[..., :3]
    return _checks.unit_floats_to_uint8(rgb)
