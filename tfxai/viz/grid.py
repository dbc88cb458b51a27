"""Grids of image tiles with row and column labels, as one uint8 RGB array."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_BACKGROUND = (255, 255, 255)
_INK = (0, 0, 0)


def image_grid(
    tiles: np.ndarray | Sequence[Sequence[np.ndarray]],
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    pad: int = 2,
    label_height: int = 14,
    label_width: int | None = None,
) -> np.ndarray:
    """Lays out `(rows, cols, H, W, 3)` uint8 tiles in a labeled grid.

    Args:
        tiles: uint8 array `(rows, cols, H, W, 3)`, or a nested list of `(H, W, 3)` tiles.
        row_labels: Optional list of `rows` strings, drawn left of each row.
        col_labels: Optional list of `cols` strings, drawn above each column.
        pad: Integer, default 2. White pixels between tiles.
        label_height: Integer, default 14. Height of the column-label band.
        label_width: Integer or `None` (default: fitted to the longest row label).

    Returns:
        uint8 RGB array of the whole grid.

    Raises:
        ValueError: If `tiles` is not 5-D uint8 RGB, or a label list has the wrong length.

    Example:
        >>> grid = image_grid(np.stack([overlay(images, m) for m in maps], 1),
        ...                   col_labels=list(names))
    """
    tiles = np.asarray(tiles)
    if tiles.ndim != 5 or tiles.shape[-1] != 3 or tiles.dtype != np.uint8:
        raise ValueError(
            f"tiles: expected uint8 tiles of shape (rows, cols, H, W, 3), got "
            f"{tiles.dtype} {tiles.shape}."
        )
    rows, cols, height, width, _ = tiles.shape
    _check_labels(row_labels, rows, "row_labels")
    _check_labels(col_labels, cols, "col_labels")
    font = ImageFont.load_default()
    left = 0 if not row_labels else (label_width or 6 * max(len(t) for t in row_labels) + 6)
    top = label_height if col_labels else 0
    canvas = Image.new(
        "RGB", (left + cols * (width + pad) + pad, top + rows * (height + pad) + pad), _BACKGROUND
    )
    draw = ImageDraw.Draw(canvas)
    for row in range(rows):
        y = top + pad + row * (height + pad)
        if row_labels:
            draw.text((2, y + height // 2 - 5), row_labels[row], fill=_INK, font=font)
        for col in range(cols):
            canvas.paste(Image.fromarray(tiles[row, col]), (left + pad + col * (width + pad), y))
    for col, label in enumerate(col_labels or []):
        draw.text((left + pad + col * (width + pad) + 1, 1), label, fill=_INK, font=font)
    return np.asarray(canvas)


def _check_labels(labels: Sequence[str] | None, count: int, name: str) -> None:
    if labels is not None and len(labels) != count:
        raise ValueError(f"{name}: expected {count} labels, got {len(labels)}.")
