"""Intersection over union of a thresholded map with the object mask."""

from __future__ import annotations

import numpy as np

from tfxai import inputs
from tfxai.metrics import _checks


def iou(maps: np.ndarray, masks: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """IoU of each map's region `map >= threshold` with its ground-truth mask.

    Maps and threshold are in [0, 1], as explainers return maps (with the default
    `normalize=True`): 0.5 keeps the pixels at least half as salient as the peak of a
    min-max normalized map.

    Args:
        maps: Maps `(B, H, W)` in [0, 1]: numpy or `tf.Tensor`.
        masks: Boolean object masks `(B, H, W)` (or 0/1 values; an `(H, W)` mask is shared
            by the batch), each with at least one pixel.
        threshold: Float in [0, 1], default 0.5. Pixels with `map >= threshold` form the
            region.

    Returns:
        float32 array `(B,)` in [0, 1]: `|region & mask| / |region | mask|`.

    Raises:
        ValueError: If the shapes do not match, `maps` hold NaN or leave [0, 1], a mask
            is empty, or `threshold` is not a number in [0, 1].

    Example:
        >>> tfxai.metrics.iou(cams, masks, threshold=0.5).mean()

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
        Gradient-based Localization", ICCV 2017 (weakly-supervised localization).
        https://arxiv.org/abs/1610.02391
    """
    maps = _checks.as_maps(maps)
    masks = _checks.as_masks(masks, maps.shape)
    threshold = inputs.unit_interval(threshold, "threshold")
    _checks.check_unit_range(maps)
    region = maps >= threshold
    intersection = np.sum(region & masks, axis=(1, 2))
    union = np.sum(region | masks, axis=(1, 2))  # > 0: masks are never empty
    return (intersection / union).astype(np.float32)
