"""The figures `tfxai.viz`'s plots return: object-oriented matplotlib, no pyplot state.

A plot builds a `matplotlib.figure.Figure` with an Agg canvas attached, never through
`pyplot`: nothing is registered with pyplot's figure manager, so nothing leaks between
calls (no "more than 20 figures" warning), nothing is shown, and a notebook does not
display the figure twice (pyplot's inline backend shows every open figure at the end of
a cell, and the returned figure once more).

A bare `Figure` has no inline representation of its own: Jupyter renders it as an image
only once pyplot's inline backend has registered its formatter (after a first `plt`
figure), and as `<Figure size ...>` text before. `InlineFigure` adds `_repr_png_`, so the
figure a cell returns displays inline either way.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tfxai.viz import _checks
from tfxai.viz.deprocess import _check_mode, to_uint8_image

TILE_INCHES = 2.0  # the side of one image tile
DPI = 100


class InlineFigure(Figure):
    """A `matplotlib.figure.Figure` that Jupyter displays inline (`_repr_png_`)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(width: float, height: float) -> Figure:
    """A figure of `width` x `height` inches on an Agg canvas, constrained layout."""
    figure = InlineFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def show_image(axes: Axes, image: np.ndarray) -> None:
    """Draws a uint8 RGB image on `axes`, without ticks (the frame stays for labels)."""
    axes.imshow(image, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])


def image_batch(images: Any, name: str, preprocessing: str | None = None) -> np.ndarray:
    """Checks a batch `(B, H, W)` or `(B, H, W, C)` (C 1 or 3); returns uint8 `(B, H, W, 3)`.

    Raises:
        ValueError: naming `name`, on a wrong shape or dtype, NaN, or out-of-range values.
    """
    if preprocessing is not None:
        _check_mode(preprocessing, "preprocessing")
    array = _checks.as_real_array(images, name)
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] not in (1, 3)):
        raise ValueError(
            f"{name}: expected a batch of images of shape (B, H, W) or (B, H, W, C) with C "
            f"1 or 3, got shape {array.shape}."
        )
    try:
        return np.stack([to_uint8_image(image, preprocessing) for image in array])
    except ValueError as error:  # the message names `image`: say which one
        raise ValueError(f"{name}: {error}") from None


def check_labels(labels: Sequence[str] | None, count: int, name: str) -> list[str] | None:
    """Checks an optional list of `count` strings."""
    if labels is None:
        return None
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(f"{name}: expected a list of {count} strings, got {labels!r:.60}.")
    if len(labels) != count:
        raise ValueError(f"{name}: expected {count} strings (one per image), got {len(labels)}.")
    return [str(label) for label in labels]
