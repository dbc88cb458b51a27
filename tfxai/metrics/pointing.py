"""Pointing games: does a map point at the object? Both need no model, only masks.

- `pointing_game` (Zhang et al. 2016): a hit when the map's maximum lies on the object,
  or within `tolerance` pixels of it.
- `energy_pointing_game` (Score-CAM): the share of the map's energy (its sum) that falls
  inside the object's bounding box (or the mask itself).
"""

from __future__ import annotations

import numbers

import numpy as np

from tfxai.metrics import _checks, _filters


def pointing_game(maps: np.ndarray, masks: np.ndarray, *, tolerance: float = 15) -> np.ndarray:
    """Pointing game: a hit when the maximum of a map falls on (or near) the object.

    The maximum may be reached at several pixels: the map hits if any of them lies within
    `tolerance` pixels (Euclidean) of a mask pixel. A constant map (every pixel a maximum,
    e.g. an all-zero CAM) points nowhere and counts as a miss.

    Args:
        maps: Maps `(B, H, W)`: numpy or `tf.Tensor`.
        masks: Boolean object masks `(B, H, W)` (or 0/1 values; an `(H, W)` mask is shared
            by the batch), each with at least one pixel, at the maps' resolution.
        tolerance: Float, default 15. Distance in pixels from the mask still counted as a
            hit (15 px in the paper, on images of ~224 px); 0 requires the mask itself.

    Returns:
        bool array `(B,)`; its mean is the pointing-game accuracy.

    Raises:
        ValueError: If `maps` or `masks` have the wrong shape, `maps` hold NaN, a mask is
            empty, or `tolerance` is negative.

    Example:
        >>> hits = tfxai.metrics.pointing_game(cams, masks, tolerance=0)
        >>> hits.mean()

    Reference:
        Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016.
        https://arxiv.org/abs/1608.00507
    """
    maps = _checks.as_maps(maps)
    masks = _checks.as_masks(masks, maps.shape)
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, numbers.Real)
        or not np.isfinite(float(tolerance))
        or tolerance < 0
    ):
        raise ValueError(f"tolerance: expected a distance in pixels >= 0, got {tolerance!r}.")
    hits = np.zeros(len(maps), dtype=bool)
    for index, (saliency, mask) in enumerate(zip(maps, masks)):
        peaks = saliency == saliency.max()
        if peaks.all():
            continue
        hits[index] = _filters.within_distance(peaks, mask, tolerance)
    return hits


def bounding_boxes(masks: np.ndarray) -> np.ndarray:
    """Boolean `(B, H, W)`: the filled bounding box of every mask's pixels (all components)."""
    boxes = np.zeros_like(masks, dtype=bool)
    for index, mask in enumerate(masks):
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        boxes[index, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    return boxes


def energy_pointing_game(maps: np.ndarray, masks: np.ndarray, *, region: str = "box") -> np.ndarray:
    """Energy-based pointing game: the share of a map's energy inside the object.

    `sum(map inside region) / sum(map)` per image, where the region is the bounding box of
    the mask's pixels (`region="box"`, the default, as in Score-CAM, whose benchmarks give
    boxes) or the mask itself (`region="mask"`). An all-zero map scores 0.

    Args:
        maps: Non-negative maps `(B, H, W)` (e.g. normalized to [0, 1]).
        masks: Boolean object masks `(B, H, W)` (or 0/1 values; an `(H, W)` mask is shared
            by the batch), each with at least one pixel.
        region: String, `"box"` (default) or `"mask"`.

    Returns:
        float32 array `(B,)` in [0, 1]; higher is better.

    Raises:
        ValueError: If the shapes do not match, `maps` hold NaN or negative values, a mask
            is empty, or `region` is unknown.

    Example:
        >>> tfxai.metrics.energy_pointing_game(cams, masks).mean()

    Reference:
        Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional
        Neural Networks", CVPR Workshops 2020. https://arxiv.org/abs/1910.01279
    """
    maps = _checks.as_maps(maps)
    masks = _checks.as_masks(masks, maps.shape)
    _checks.check_non_negative(maps)
    if region == "box":
        inside = bounding_boxes(masks)
    elif region == "mask":
        inside = masks
    else:
        raise ValueError(f"region: expected 'box' or 'mask', got {region!r}.")
    total = maps.sum(axis=(1, 2), dtype=np.float64)
    within = np.where(inside, maps, 0.0).sum(axis=(1, 2), dtype=np.float64)
    return np.where(total > 0, within / np.where(total > 0, total, 1.0), 0.0).astype(np.float32)
