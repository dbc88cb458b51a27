"""Image plots: explanations of several methods side by side, and feature visualizations.

Each returns a `matplotlib.figure.Figure` built without pyplot (see `tfxai.viz._figure`):
nothing is shown and nothing stays open; a notebook displays the returned figure inline,
`figure.savefig(path)` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure

from tfxai.viz import _checks, _figure
from tfxai.viz.colormaps import get_colormap
from tfxai.viz.overlay import overlay


def normalize_maps(maps: np.ndarray) -> np.ndarray:
    """Scales each map of `(B, h, w)` to [0, 1] (min-max); a constant map becomes 0.

    Example:

    >>> normalize_maps(np.array([[[2.0, 4.0]], [[3.0, 3.0]]]))[:, 0]
    array([[0., 1.],
           [0., 0.]])
    """
    maps = np.asarray(maps, dtype=np.float64)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)


def _check_maps(maps_by_method: Any, count: int) -> dict[str, np.ndarray]:
    if not isinstance(maps_by_method, Mapping) or not maps_by_method:
        raise TypeError(
            "maps_by_method: expected a non-empty dict {method name: maps (B, H, W)}, got "
            f"{type(maps_by_method).__name__}."
        )
    checked = {}
    for method, maps in maps_by_method.items():
        name = f"maps_by_method[{method!r}]"
        array = np.asarray(maps)
        if array.dtype == bool:
            array = array.astype(np.float32)
        array = _checks.as_real_array(array, name)
        if array.ndim != 3 or len(array) != count:
            raise ValueError(
                f"{name}: expected {count} maps (one per image) of shape ({count}, H, W), "
                f"got shape {array.shape}."
            )
        _checks.check_finite(array, name)
        checked[str(method)] = array
    return checked


def plot_explanations(
    images: Any,
    maps_by_method: Mapping[str, Any],
    *,
    titles: Sequence[str] | None = None,
    preprocessing: str | None = None,
    normalize: bool = True,
    alpha: float = 0.5,
    colormap: str | Colormap = "jet",
    show_images: bool = True,
) -> Figure:
    """Plots the maps of several methods over the images: one row per method, a colorbar.

    Column `j` shows image `j` (first row, with `show_images`) and each method's map of it
    blended over it (`tfxai.viz.overlay`); the rows are labeled with the method names.
    Maps are resized to the images' size.

    Args:
        images: Array `(B, H, W)` or `(B, H, W, C)` (C 1 or 3): uint8, floats in [0, 1]
            or [0, 255], or preprocessed model inputs (see `preprocessing`).
        maps_by_method: Dict `{method name: maps (B, h, w)}`, e.g.
            `{"Grad-CAM": tfxai.grad_cam(model, images)}`; one map per image.
        titles: Optional list of `B` strings, the column titles (e.g. class names).
        preprocessing: String or None, default None. The `preprocess_input` mode
            (`"caffe"`, `"tf"`, `"torch"`) that produced `images`, undone for display.
        normalize: Boolean, default True. Scale each map to [0, 1] on its own (min-max),
            so maps of any scale compare; with False, maps must already lie in [0, 1].
        alpha: Float, default 0.5. Weight of the colored map over the image.
        colormap: String or `matplotlib.colors.Colormap`, default `"jet"`.
        show_images: Boolean, default True. Add a first row with the images alone.

    Returns:
        A `matplotlib.figure.Figure` with `(methods + 1) * B` image axes (`methods * B`
        without `show_images`) and one colorbar axes. Not shown; displays inline in
        Jupyter.

    Raises:
        TypeError: If `maps_by_method` is not a non-empty dict, or `titles` not a list.
        ValueError: If `images` is not a batch of images, a method's maps are not
            `(B, h, w)` for the same `B` or hold NaN, `titles` has the wrong length, or
            (with `normalize=False`) a map leaves [0, 1].

    Example:
        >>> maps = {"Grad-CAM": tfxai.grad_cam(model, images), "RISE": tfxai.rise(model, images)}
        >>> figure = tfxai.viz.plot_explanations(images, maps, titles=["cat", "dog"])
        >>> figure.savefig("explanations.png")
    """
    pixels = _figure.image_batch(images, "images", preprocessing)
    count = len(pixels)
    maps = _check_maps(maps_by_method, count)
    titles = _figure.check_labels(titles, count, "titles")
    cmap = get_colormap(colormap)

    rows: list[tuple[str, np.ndarray | None]] = [("image", None)] if show_images else []
    rows += [(method, normalize_maps(m) if normalize else m) for method, m in maps.items()]
    side = _figure.TILE_INCHES
    figure = _figure.new_figure(side * count + 0.9, side * len(rows) + 0.3)
    grid = figure.add_gridspec(len(rows), count + 1, width_ratios=[1.0] * count + [0.06])
    for row, (label, row_maps) in enumerate(rows):
        for col in range(count):
            axes = figure.add_subplot(grid[row, col])
            if row_maps is None:
                tile = pixels[col]
            else:
                name = f"maps_by_method[{label!r}]"
                try:
                    tile = overlay(pixels[col], row_maps[col], alpha=alpha, colormap=cmap)
                except ValueError as error:
                    raise ValueError(f"{name}: map {col}: {error}") from None
            _figure.show_image(axes, tile)
            if row == 0 and titles:
                axes.set_title(titles[col])
            if col == 0:
                axes.set_ylabel(label)
    first_map_row = 1 if show_images else 0
    colorbar_axes = figure.add_subplot(grid[first_map_row:, count])
    mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
    figure.colorbar(mappable, cax=colorbar_axes, label="normalized map" if normalize else "map")
    return figure


def _check_rendering(rendering: Any) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    if not all(hasattr(rendering, name) for name in ("images", "values", "snapshots")):
        raise TypeError(
            "rendering: expected a tfxai.featurevis.Rendering (the result of tfxai.render, "
            f"with images, values and snapshots), got {type(rendering).__name__}."
        )
    images = _figure.image_batch(rendering.images, "rendering.images")
    values = _checks.as_real_array(rendering.values, "rendering.values").reshape(-1)
    if len(values) != len(images):
        raise ValueError(
            f"rendering.values: expected {len(images)} values (one per image), got {len(values)}."
        )
    snapshots = {}
    for step, snapshot in sorted(dict(rendering.snapshots).items()):
        name = f"rendering.snapshots[{step!r}]"
        snapshots[int(step)] = _figure.image_batch(snapshot, name)
        if snapshots[int(step)].shape != images.shape:
            raise ValueError(
                f"{name}: expected the shape of rendering.images {np.shape(rendering.images)}, "
                f"got {np.shape(snapshot)}."
            )
    return images, values, snapshots


def plot_rendering(
    rendering: Any,
    *,
    titles: Sequence[str] | None = None,
    snapshots: bool = True,
) -> Figure:
    """Plots the images of a feature visualization with their objective values.

    One column per image, titled with `titles` (default `"image i"`) and labeled below
    with the objective's final value; with `snapshots`, the images kept at the
    `thresholds` steps of `tfxai.render` fill one row each above the final images.

    Args:
        rendering: A `tfxai.featurevis.Rendering` (the result of `tfxai.render`): its
            `images` `(B, H, W, C)` in [0, 1], `values` `(B,)` and `snapshots`.
        titles: Optional list of `B` strings, the column titles (e.g. channel names).
        snapshots: Boolean, default True. Show the snapshots as rows, oldest on top.

    Returns:
        A `matplotlib.figure.Figure` with `(len(snapshots) + 1) * B` image axes (`B`
        without `snapshots`). Not shown; displays inline in Jupyter.

    Raises:
        TypeError: If `rendering` is not a `Rendering` or `titles` not a list.
        ValueError: If its images are not a batch of images, `values` or a snapshot does
            not match them, or `titles` has the wrong length.

    Example:
        >>> result = tfxai.render(model, tfxai.featurevis.channel("conv5", [0, 1, 2]),
        ...                       thresholds=(64, 256))
        >>> tfxai.viz.plot_rendering(result, titles=["c0", "c1", "c2"]).savefig("fv.png")
    """
    images, values, kept = _check_rendering(rendering)
    count = len(images)
    titles = _figure.check_labels(titles, count, "titles")
    rows = [(f"step {step}", batch) for step, batch in kept.items()] if snapshots else []
    rows.append(("final" if rows else "", images))
    side = _figure.TILE_INCHES
    figure = _figure.new_figure(side * count + 0.3, (side + 0.3) * len(rows) + 0.3)
    grid = figure.add_gridspec(len(rows), count)
    for row, (label, batch) in enumerate(rows):
        for col in range(count):
            axes = figure.add_subplot(grid[row, col])
            _figure.show_image(axes, batch[col])
            if row == 0:
                axes.set_title(titles[col] if titles else f"image {col}")
            if col == 0 and label:
                axes.set_ylabel(label)
            if row == len(rows) - 1:
                axes.set_xlabel(f"value {values[col]:.4g}")
    return figure
