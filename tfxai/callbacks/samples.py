"""The fixed samples a callback explains: images, and their labels and masks when given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib
from tfxai.metrics import _checks as metric_checks


class Samples(NamedTuple):
    """Fixed samples: float32 images `(B, H, W, C)`, labels `(B,)` and masks `(B, H, W)`."""

    images: np.ndarray
    labels: np.ndarray | None = None
    masks: np.ndarray | None = None


def fixed_samples(inputs: Any, name: str = "inputs") -> Samples:
    """Reads the samples once: numpy/tensor images, a tuple `(x, y[, masks])`, or the
    first batch of a `tf.data.Dataset` (elements `x`, `(x, y)` or `(x, y, masks)`).

    Labels may be class ids `(B,)` or one-hot `(B, K)` (turned into ids). Masks are
    boolean `(B, H, W)` object masks.

    Raises:
        ValueError, TypeError: On an empty dataset or arrays of the wrong shape or type.
    """
    if isinstance(inputs, tf.data.Dataset):
        element = next(iter(inputs.take(1)), None)
        if element is None:
            raise ValueError(f"{name}: the dataset is empty; expected at least one batch.")
        inputs = tuple(element) if isinstance(element, (tuple, list)) else element
    if isinstance(inputs, dict):
        raise TypeError(
            f"{name}: expected images, (images, labels[, masks]) or a dataset; "
            f"got a dict (multi-input models are not supported by callbacks)."
        )
    parts = list(inputs) if isinstance(inputs, tuple) else [inputs]
    if len(parts) > 3:
        raise ValueError(
            f"{name}: expected images, (images, labels) or (images, labels, "
            f"masks), got a tuple of {len(parts)} items."
        )
    images = inputs_lib.refuse_booleans(_image_array(parts[0], name), name)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"{name}: expected a non-empty batch of images (batch, height, "
            f"width, channels), got shape {images.shape}."
        )
    labels = _labels(parts[1], len(images), name) if len(parts) > 1 else None
    masks = check_masks(parts[2], images.shape, f"{name} (masks)") if len(parts) > 2 else None
    return Samples(images, labels, masks)


def _image_array(images: Any, name: str) -> np.ndarray:
    """The images as a numeric array; a sequence of arrays of several shapes (the inputs of
    a multi-input model) is refused as such."""
    try:
        return inputs_lib.as_numeric_array(images, name)
    except TypeError:
        if isinstance(images, (tuple, list)):
            raise TypeError(
                f"{name}: got a {type(images).__name__} of {len(images)} arrays of different "
                f"shapes, the inputs of a multi-input model? Callbacks explain single-input "
                f"image models; the explainers take several inputs with input= (see "
                f"docs/guide/multi-input.md)."
            ) from None
        raise


def _labels(labels: Any, count: int, name: str) -> np.ndarray | None:
    """Class ids `(count,)` int64, or `None` for dense labels (segmentation masks)."""
    labels = inputs_lib.as_numeric_array(labels, f"{name} (labels)")
    if labels.ndim > 2 or (labels.ndim == 2 and labels.shape[0] != count):
        return None
    return targets_lib.label_classes(labels, count, f"{name} (labels)").astype(np.int64)


def check_masks(masks: Any, shape: Sequence[int], name: str = "masks") -> np.ndarray | None:
    """Checked boolean `(B, H, W)` masks for images of `shape[:3]` (`tfxai.metrics`' own
    check: 0/1 values, one non-empty mask per image or one shared), or `None`."""
    return None if masks is None else metric_checks.as_masks(masks, tuple(shape[:3]), name)


def resolve_targets(target: Any, samples: Samples) -> dict[str, Any]:
    """`{name: target}` for a target spec: a dict of them, or one (named "target").

    `"labels"` becomes the samples' labels. Other values are left for the explainer.

    Raises:
        ValueError: For `"labels"` without labels, or an empty dict.
    """
    specs = dict(target) if isinstance(target, dict) else {_target_name(target): target}
    if not specs:
        raise ValueError("target: got an empty dict; expected {name: target, ...}.")
    resolved = {}
    for key, spec in specs.items():
        if isinstance(spec, str):
            if spec != "labels":
                raise ValueError(
                    f"target: expected None, an int, a list, a Target or 'labels', got {spec!r}."
                )
            if samples.labels is None:
                raise ValueError(
                    "target: 'labels' needs class labels: pass inputs as "
                    "(images, labels) or a dataset of (images, labels)."
                )
            spec = [int(c) for c in samples.labels]
        resolved[str(key)] = spec
    return resolved


def _target_name(target: Any) -> str:
    if target is None:
        return "predicted"
    if isinstance(target, str):
        return target
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return f"class {int(target)}"
    return getattr(target, "name", None) or "target"
