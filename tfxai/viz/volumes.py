"""3-D maps over a volume (CT, MRI): evenly spaced slices, each with its map blended in.

Explainers on a model with a 5-D input return maps `(B, D, H, W)`; `volume_slices` shows
one of them over its volume as a row of 2-D overlays, cut along any of the three axes.
numpy and matplotlib only (see `tfxai.viz`); the figure is built without pyplot.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure

from tfxai.viz import _checks, _figure
from tfxai.viz.colormaps import get_colormap
from tfxai.viz.overlay import overlay

AXIS_NAMES = ("depth", "height", "width")
DEFAULT_COUNT = 6


def slice_indices(size: int, count: int) -> np.ndarray:
    """`count` evenly spaced indices in `[0, size - 1]`, first and last included.

    Args:
        size: Integer >= 1, the length of the axis.
        count: Integer in [1, size], the number of slices.

    Returns:
        int64 numpy array of `count` increasing indices (the middle one for `count=1`).

    Example:

    >>> slice_indices(10, 4)
    array([0, 3, 6, 9])
    """
    if count == 1:
        return np.array([(size - 1) // 2])
    return np.rint(np.linspace(0, size - 1, count)).astype(np.int64)


def _check_volume(volume: Any) -> np.ndarray:
    array = _checks.as_real_array(volume, "volume")
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] not in (1, 3)):
        hint = " (a batch? pass one volume, volume[i])" if array.ndim == 5 else ""
        raise ValueError(
            f"volume: expected one volume of shape (D, H, W) or (D, H, W, C) with C 1 or 3, "
            f"got shape {array.shape}{hint}."
        )
    _checks.check_finite(array, "volume")
    array = array.astype(np.float64)
    low, high = array.min(), array.max()
    scaled = (array - low) / (high - low) if high > low else np.zeros_like(array)
    return scaled if scaled.ndim == 4 else scaled[..., None]


def _check_cam(cam: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = _checks.as_real_array(cam, "cam")
    if array.shape != shape:
        hint = " (a batch of maps? pass one, cam[i])" if array.ndim == 4 else ""
        raise ValueError(
            f"cam: expected one map of the volume's shape {shape} (D, H, W), got shape "
            f"{array.shape}{hint}."
        )
    _checks.check_finite(array, "cam")
    _checks.check_range(array, "cam", 0.0, 1.0)
    return array.astype(np.float64)


def _check_axis(axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -3 <= int(axis) < 3:
        raise ValueError(
            f"axis: expected 0 (depth), 1 (height) or 2 (width) of a (D, H, W) volume, "
            f"got {axis!r}."
        )
    return int(axis) % 3


def _check_count(count: Any, size: int, axis: int) -> int:
    ok = isinstance(count, numbers.Integral) and not isinstance(count, bool)
    if not ok or not 1 <= count <= size:
        raise ValueError(
            f"count: expected an integer in [1, {size}] (the {AXIS_NAMES[axis]} of the "
            f"volume), got {count!r}."
        )
    return int(count)


def volume_slices(
    volume: Any,
    cam: Any,
    *,
    axis: int = 0,
    count: int | None = None,
    alpha: float = 0.5,
    colormap: str | Colormap = "jet",
    title: str | None = None,
) -> Figure:
    """Plots a 3-D map over its volume on `count` evenly spaced slices, with a colorbar.

    The slices are cut across `axis` at `slice_indices(size, count)` (the first and the
    last included), and each shows the volume's slice with the map's slice blended over
    it (`tfxai.viz.overlay`), labeled with its index. The volume is scaled to [0, 1] over
    all its voxels (min-max) for display, so any intensity unit works (CT Hounsfield
    units, MRI signal) and the slices share one gray scale; the map is drawn as it is,
    so the slices share one color scale too.

    Args:
        volume: Array `(D, H, W)` or `(D, H, W, C)` (C 1 or 3), any real values, e.g.
            `volumes[i]` of a batch `(B, D, H, W, C)` given to an explainer.
        cam: Array `(D, H, W)` in [0, 1], the volume's map, e.g. `maps[i]` of
            `tfxai.grad_cam(model, volumes)`.
        axis: Integer, default 0. The axis cut across: 0 (depth), 1 (height), 2 (width).
        count: Integer or `None` (default: 6, or every slice of a shorter axis). Slices
            shown, at most the length of `axis`.
        alpha: Float, default 0.5. Weight of the colored map over the slice, in [0, 1].
        colormap: String or `matplotlib.colors.Colormap`, default `"jet"`.
        title: Optional string, the figure's title.

    Returns:
        A `matplotlib.figure.Figure` with `count` image axes and one colorbar axes. Not
        shown; displays inline in Jupyter, `figure.savefig(path)` writes it.

    Raises:
        ValueError: If `volume` is not one volume, `cam` not one map of its shape in
            [0, 1], either holds NaN, or `axis`, `count` or `alpha` is out of range.

    Example:
        >>> maps = tfxai.grad_cam(model, volumes)  # volumes (B, D, H, W, 1) -> (B, D, H, W)
        >>> figure = tfxai.viz.volume_slices(volumes[0], maps[0], axis=0, count=8)
        >>> figure.savefig("slices.png")
    """
    pixels = _check_volume(volume)
    maps = _check_cam(cam, pixels.shape[:3])
    axis = _check_axis(axis)
    size = pixels.shape[axis]
    count = min(DEFAULT_COUNT, size) if count is None else _check_count(count, size, axis)
    cmap = get_colormap(colormap)
    indices = slice_indices(pixels.shape[axis], count)
    images = _checks.unit_floats_to_uint8(np.moveaxis(pixels, axis, 0)[indices])  # (n, h, w, C)
    tiles = overlay(images, np.moveaxis(maps, axis, 0)[indices], alpha=alpha, colormap=cmap)
    height, width = images.shape[1:3]
    side = _figure.TILE_INCHES
    tile_width = side * min(4.0, max(0.25, width / height))
    figure = _figure.new_figure(tile_width * count + 0.9, side + 0.6)
    grid = figure.add_gridspec(1, count + 1, width_ratios=[1.0] * count + [0.06])
    for col, (index, tile) in enumerate(zip(indices, tiles)):
        axes = figure.add_subplot(grid[0, col])
        _figure.show_image(axes, tile)
        axes.set_xlabel(f"{AXIS_NAMES[axis]} {index}")
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
    figure.colorbar(mappable, cax=figure.add_subplot(grid[0, count]), label="map")
    if title is not None:
        figure.suptitle(str(title))
    return figure
