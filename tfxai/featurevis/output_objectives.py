"""Feature-visualization objectives on the model output: class logits, segmentation maps.

`class_logit` scores a classifier's pre-softmax logit, `segmentation_class` a
segmentation head's class logit averaged over a pixel region (Seg-Grad-CAM's target, for
feature visualization). Both read `Context.logits`; see `tfxai.featurevis.objectives`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfxai.featurevis.context import bind_indices, indices, objective, pick_channel
from tfxai.target_algebra import Target


def _check_class_range(ids, shape):
    """Refuses class `ids` beyond the `shape[-1]` classes of the model output."""
    bad = [int(i) for i in np.atleast_1d(ids) if int(i) >= shape[-1]]
    if bad:
        raise ValueError(
            f"classes: class index {bad[0]} is out of range; the model "
            f"output has {shape[-1]} classes."
        )


def class_logit(classes: Any) -> Target:
    """Objective: the pre-softmax logit of a class (the model's own output if no softmax).

    Args:
        classes: Integer, or a list of integers with one class per image.

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad `classes`; at render time, on a class out of range or a model
            whose output is not `(B, K)` (use `segmentation_class` for dense outputs).

    Example:
        >>> tfxai.render(model, class_logit([0, 1, 2, 3, 4]))
    """
    ids, batch = indices(classes, "classes")

    def check(shapes, batch_size):
        shape = shapes["logits"]
        if len(shape) != 2:
            raise ValueError(
                f"classes: class_logit needs a (B, K) model output, got "
                f"{shape}; use segmentation_class for per-pixel outputs."
            )
        _check_class_range(ids, shape)

    return objective(
        lambda ctx, p: pick_channel(ctx.logits, p),
        bind_indices(ids, "classes"),
        key=("class_logit",),
        check_fn=check,
        name=f"class_logit({classes!r})",
        batch=batch,
    )


def _region_mask(region, height, width):
    """A float32 `(H, W)` mask from `None`, a box `(y0, x0, y1, x1)` or a boolean array."""
    if region is None:
        return np.ones((height, width), np.float32)
    array = np.asarray(region)
    if array.shape == (4,) and np.issubdtype(array.dtype, np.integer):
        y0, x0, y1, x1 = (int(v) for v in array)
        if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
            raise ValueError(
                f"region: box {tuple(array)} is not inside the {height}x{width} "
                f"output map; expected 0 <= y0 < y1 <= H and 0 <= x0 < x1 <= W."
            )
        mask = np.zeros((height, width), np.float32)
        mask[y0:y1, x0:x1] = 1.0
        return mask
    if array.shape != (height, width):
        raise ValueError(
            f"region: expected None, a box (y0, x0, y1, x1) or a boolean mask "
            f"of the output map's shape ({height}, {width}), got shape "
            f"{array.shape}."
        )
    if not array.any():
        raise ValueError("region: the mask selects no pixel.")
    return array.astype(bool).astype(np.float32)


def segmentation_class(classes: Any, region: Any = None) -> Target:
    """Objective: a class logit of a segmentation head, averaged over a pixel region.

    Args:
        classes: Integer, or a list of integers with one class per image.
        region: `None` (default, the whole map), a box `(y0, x0, y1, x1)` of output-map
            pixels (end exclusive), or a boolean mask `(H, W)` of the output map.

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad `classes`; at render time, on a class out of range, a bad
            `region` or a model whose output is not `(B, H, W, K)`.

    Example:
        >>> tfxai.render(unet, segmentation_class(2, region=(24, 24, 72, 72)))

    Reference:
        Vinogradova et al., "Towards Interpretable Semantic Segmentation via
        Gradient-weighted Class Activation Mapping", AAAI 2020.
        https://arxiv.org/abs/2002.11434
    """
    ids, batch = indices(classes, "classes")
    if region is not None and not isinstance(region, (tuple, list, np.ndarray)):
        raise ValueError(
            f"region: expected None, a box (y0, x0, y1, x1) or a boolean "
            f"mask, got {type(region).__name__}."
        )

    def check(shapes, batch_size):
        shape = shapes["logits"]
        if len(shape) != 4:
            raise ValueError(
                f"classes: segmentation_class needs a (B, H, W, K) model "
                f"output, got {shape}; use class_logit for (B, K) outputs."
            )
        _region_mask(region, shape[1], shape[2])
        _check_class_range(ids, shape)

    def score(ctx, p):
        mask = _region_mask(region, ctx.logits.shape[1], ctx.logits.shape[2])
        values = pick_channel(ctx.logits, p)
        return tf.reduce_sum(values * mask, axis=[1, 2]) / float(mask.sum())

    region_key = None if region is None else (np.shape(region), np.asarray(region).tobytes())
    return objective(
        score,
        bind_indices(ids, "classes"),
        key=("segmentation_class", region_key),
        check_fn=check,
        name=f"segmentation_class({classes!r})",
        batch=batch,
    )
