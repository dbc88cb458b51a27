"""Small numpy image filters for the metrics (no SciPy at run time).

- `gaussian_filter`: separable, truncated Gaussian over the two image axes;
- `average_ranks`: ranks with ties averaged, per row;
- `within_distance`: is any pixel of a set within a distance of a mask?
"""

from __future__ import annotations

from typing import Literal

import numpy as np

_PAD_MODES: dict[str, Literal["edge", "symmetric"]] = {"nearest": "edge", "reflect": "symmetric"}


def gaussian_kernel(sigma: float, radius: int) -> np.ndarray:
    """float64 `(2 * radius + 1,)`: `exp(-x^2 / (2 sigma^2))` for x in [-radius, radius], sum 1."""
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_filter(
    images: np.ndarray,
    sigma: float,
    radius: int,
    axes: tuple[int, ...] = (1, 2),
    mode: str = "nearest",
) -> np.ndarray:
    """Gaussian blur along `axes` (the image height and width), float64.

    Args:
        images: float array, e.g. `(B, H, W, C)` or `(B, H, W)`.
        sigma: Float, the standard deviation in pixels.
        radius: Integer, the kernel's half size (`2 * radius + 1` taps).
        axes: The two spatial axes.
        mode: `"nearest"` (repeat the edge pixels) or `"reflect"` (mirror, edge included),
            as in `scipy.ndimage`.

    Returns:
        float64 array of the same shape.
    """
    kernel = gaussian_kernel(sigma, radius)
    result = np.asarray(images, dtype=np.float64)
    for axis in axes:
        widths = [(0, 0)] * result.ndim
        widths[axis] = (radius, radius)
        padded = np.pad(result, widths, mode=_PAD_MODES[mode])
        size = result.shape[axis]
        result = sum(
            weight * np.take(padded, np.arange(tap, tap + size), axis=axis)
            for tap, weight in enumerate(kernel)
        )
    return result


def average_ranks(rows: np.ndarray) -> np.ndarray:
    """float64 `(B, N)`: 1-based ranks of each row's values, ties given their average rank."""
    rows = np.asarray(rows)
    ranks = np.empty(rows.shape, dtype=np.float64)
    for index, row in enumerate(rows):
        _, inverse, counts = np.unique(row, return_inverse=True, return_counts=True)
        ends = np.cumsum(counts)
        ranks[index] = (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]
    return ranks


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Mask pixels with a 4-neighbour (inside the image) outside the mask."""
    padded = np.pad(mask, 1, mode="edge")
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def within_distance(
    points: np.ndarray, mask: np.ndarray, distance: float, chunk: int = 1 << 20
) -> bool:
    """True if any `True` pixel of `points` `(H, W)` is within `distance` (Euclidean) of `mask`.

    The nearest mask pixel to an outside point is always on the mask's 4-boundary, so
    only boundary pixels are compared, in chunks bounded by `chunk` pairs.
    """
    if np.any(points & mask):
        return True
    if distance <= 0:
        return False
    outside = np.argwhere(points).astype(np.float64)
    edge = np.argwhere(_boundary(mask)).astype(np.float64)
    step = max(1, chunk // max(1, len(edge)))
    for start in range(0, len(outside), step):
        block = outside[start : start + step]
        squared = ((block[:, None, :] - edge[None, :, :]) ** 2).sum(axis=-1)
        if np.sqrt(squared.min()) <= distance:  # as a distance transform compares
            return True
    return False
