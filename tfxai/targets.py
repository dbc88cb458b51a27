"""Target factories: class scores, the predicted class, segmentation masks, callables.

Every factory returns a `tfxai.target_algebra.Target`, a differentiable per-sample score
("higher is better") of shape `(batch,)`; `to_target` turns the shorthands the explainers
accept (`None`, an int, a list of ints, `"labels"`, a callable) into one. `Target` itself
and its arithmetic live in `tfxai.target_algebra`, the `"labels"` target in `tfxai.labels`;
both are re-exported here, where the rest of the package looks them up.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

# Re-exported: `targets.Target`, `targets.LABELS`, ... as before the split.
from tfxai.labels import LABELS, label_classes, labels
from tfxai.target_algebra import Target

__all__ = [
    "LABELS",
    "Target",
    "class_score",
    "from_callable",
    "label_classes",
    "labels",
    "mask_score",
    "predicted",
    "to_target",
]

# An int, or one int per sample (a sequence or an array); narrowed by `_class_ids`.
Classes = Any


def _class_axis_size(output_shape):
    return output_shape[-1]


def _check_class_ids(ids, output_shape, name):
    classes = _class_axis_size(output_shape)
    if classes is None:
        return
    bad = [int(i) for i in np.atleast_1d(ids) if not 0 <= int(i) < classes]
    if bad:
        raise ValueError(
            f"{name}: class index {bad[0]} is out of range; the model output has {classes} "
            f"classes, so expected an index in [0, {classes - 1}]."
        )


def _class_ids(classes, batch, name):
    """Broadcasts an int or a per-sample sequence of ints to an int32 array `(batch,)`."""
    ids = np.asarray(classes)
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected an int or a sequence of ints (one per sample), got {classes!r}."
        )
    if ids.ndim == 0:
        return np.full((batch,), int(ids), dtype=np.int32)
    if ids.ndim != 1 or len(ids) != batch:
        raise ValueError(
            f"{name}: expected one class index per sample ({batch} for this batch), got "
            f"{len(ids) if ids.ndim == 1 else 'shape ' + str(ids.shape)} values."
        )
    return ids.astype(np.int32)


def _gather_class(outputs, ids):
    """Per-sample class logit from `(B, K)` outputs, or its sum over pixels for `(B, ..., K)`."""
    per_class = outputs
    if outputs.shape.rank > 2:
        per_class = tf.reduce_sum(outputs, axis=list(range(1, outputs.shape.rank - 1)))
    return tf.gather(per_class, ids, axis=-1, batch_dims=1)


def class_score(classes: Classes, *, name: str = "target") -> Target:
    """Target: the logit of a class per sample (summed over pixels for dense outputs).

    Args:
        classes: Integer, or a sequence of integers with one class per sample.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        TypeError: If `classes` is not an int or a sequence of ints.
        ValueError: At call time, if a class is out of range or the sequence length does
            not match the batch.

    Example:
        >>> cams = tfxai.grad_cam(model, images, target=class_score([3, 5]))
    """
    _class_ids(classes, 1 if np.ndim(classes) == 0 else len(classes), name)
    label = f"class_score({classes!r})"
    return Target(
        lambda out, p: _gather_class(out, p[0]),
        lambda b: (_class_ids(classes, b, name),),
        key=("class_score",),
        check_fn=lambda shape, b: _check_class_ids(classes, shape, name),
        name=label,
        batch=None if np.ndim(classes) == 0 else len(classes),
    )


def predicted(*, name: str = "target") -> Target:
    """Target: the score of the predicted (highest-logit) class of each sample.

    For dense outputs `(B, H, W, K)` the predicted class is the one with the largest mean
    logit over the map, and the score is its logit summed over the pixels predicted as that
    class (Seg-Grad-CAM's pixel set).

    Args:
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` with no parameters.

    Example:
        >>> cams = tfxai.grad_cam(model, images)  # target=None is predicted()
    """
    return Target(_predicted_score, key=("predicted",), name="predicted()")


def _predicted_score(outputs, params):
    if outputs.shape.rank == 2:
        return tf.reduce_max(outputs, axis=-1)
    spatial = list(range(1, outputs.shape.rank - 1))
    ids = tf.argmax(tf.reduce_mean(outputs, axis=spatial), axis=-1, output_type=tf.int32)
    pixel_class = tf.argmax(outputs, axis=-1, output_type=tf.int32)
    logit = tf.gather(outputs, ids, axis=-1, batch_dims=1)
    expand = tf.reshape(ids, [-1] + [1] * len(spatial))
    chosen = tf.cast(tf.equal(pixel_class, expand), outputs.dtype)
    return tf.reduce_sum(logit * chosen, axis=spatial)


def mask_score(classes: Classes, mask: Any, *, name: str = "target") -> Target:
    """Target: a class logit summed over a pixel mask of a dense `(B, H, W, K)` output.

    This is Seg-Grad-CAM's target for segmentation heads.

    Args:
        classes: Integer, or a sequence of integers with one class per sample.
        mask: Array `(H, W)` shared by the batch or `(B, H, W)` per sample; boolean or
            float weights, at the model output's resolution.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        ValueError: If `mask` is not 2-D/3-D, is empty of pixels, is not finite, or (at call
            time) its size differs from the output map or its batch from the inputs.

    Example:
        >>> road = prediction.argmax(-1) == 1
        >>> cams = tfxai.grad_cam(unet, images, target=mask_score(1, road))

    Reference:
        Vinogradova et al., "Towards Interpretable Semantic Segmentation via Gradient-weighted
        Class Activation Mapping", 2020. https://arxiv.org/abs/2002.11434
    """
    weights = np.asarray(mask, dtype=np.float32)
    if weights.ndim not in (2, 3):
        raise ValueError(f"mask: expected shape (H, W) or (batch, H, W), got {weights.shape}.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("mask: contains NaN or Inf values; expected finite weights.")
    empty = ~np.any(weights.reshape((-1,) + weights.shape[-2:]) != 0, axis=(1, 2))
    if np.any(empty):
        which = "the mask" if weights.ndim == 2 else f"mask {int(np.argmax(empty))}"
        raise ValueError(
            f"mask: {which} has no pixel (all zero), so its score and every map "
            f"would be zero; expected at least one pixel per mask."
        )
    label = f"mask_score({classes!r}, mask{weights.shape})"

    def bind(batch):
        if weights.ndim == 3 and weights.shape[0] != batch:
            raise ValueError(
                f"mask: expected one mask per sample ({batch}) or a single (H, W) mask, got "
                f"{weights.shape[0]} masks."
            )
        masks = np.broadcast_to(weights, (batch,) + weights.shape[-2:])
        return _class_ids(classes, batch, name), np.ascontiguousarray(masks)

    def check(shape, batch):
        if len(shape) != 4:
            raise ValueError(
                f"{name}: mask_score needs a dense (batch, H, W, classes) model output, got "
                f"an output of shape {shape}."
            )
        if tuple(weights.shape[-2:]) != tuple(shape[1:3]) and None not in shape[1:3]:
            raise ValueError(
                f"mask: expected a mask of the output map size {tuple(shape[1:3])}, got "
                f"{tuple(weights.shape[-2:])}."
            )
        _check_class_ids(classes, shape, name)

    sizes = [len(classes)] if np.ndim(classes) == 1 else []
    sizes += [weights.shape[0]] if weights.ndim == 3 else []
    return Target(
        _mask_score,
        bind,
        key=("mask_score",),
        check_fn=check,
        name=label,
        batch=sizes[0] if sizes else None,
    )


def _mask_score(outputs, params):
    ids, masks = params
    logit = tf.gather(outputs, ids, axis=-1, batch_dims=1)
    return tf.reduce_sum(logit * tf.cast(masks, logit.dtype), axis=[1, 2])


def from_callable(fn: Callable[[tf.Tensor], tf.Tensor], *, name: str = "target") -> Target:
    """Target from a user function `fn(outputs) -> (batch,)` on the model output (logits).

    Args:
        fn: Callable taking the output tensor and returning one score per sample.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` whose graph is keyed on `fn` itself.

    Example:
        >>> t = from_callable(lambda y: y[:, 3] - y[:, 5])
    """
    label = getattr(fn, "__name__", type(fn).__name__)
    return Target(lambda out, p: fn(out), key=("callable", fn), name=f"callable {label}")


def to_target(target: Any, *, name: str = "target") -> Target:
    """Converts a target shorthand to a `Target`.

    Args:
        target: `None` (the predicted class), an int, a sequence of ints (one per sample),
            `"labels"` (the `y` of a dataset's `(x, y)` elements), a callable on the model
            output, or a `Target`.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        TypeError: If `target` is none of the above.

    Example:
        >>> target = to_target([3, 5])  # class 3 for the first sample, 5 for the second
        >>> to_target(target) is target  # a Target is returned as it is
        True
    """
    if isinstance(target, Target):
        return target
    if target is None:
        return predicted(name=name)
    if isinstance(target, str) and target == "labels":
        return labels(name=name)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a class index, got the boolean {target!r}.")
    if isinstance(target, (numbers.Integral, list, tuple, np.ndarray)):
        return class_score(target, name=name)
    if callable(target):
        return from_callable(target, name=name)
    raise TypeError(
        f"{name}: expected None, an int, a sequence of ints, 'labels', a callable on the "
        f"model output or a tfxai Target, got {target!r}."
    )
