"""Labels as targets: the `"labels"` shorthand and class ids read from dataset labels."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfxai.target_algebra import Target

LABELS = ("labels",)


def labels(*, name: str = "target") -> Target:
    """Target: the class in each `(x, y)` element's labels `y` of a `tf.data.Dataset`.

    `y` holds class ids `(B,)` or one-hot / probability rows `(B, K)`; it is read batch by
    batch with the images, so a shuffled dataset stays aligned. Only datasets carry
    labels: with arrays, pass the classes themselves (`target=labels_array`).

    Args:
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` that the explainers replace by `class_score` of each batch's labels.

    Example:
        >>> cams = tfxai.grad_cam(model, dataset.take(10), target="labels")
    """

    def score(outputs, params):
        raise ValueError(
            f"{name}: 'labels' takes each image's class from the (x, y) "
            f"elements of a tf.data.Dataset; with arrays pass the classes."
        )

    return Target(score, key=LABELS, name="labels")


def label_classes(values: Any, count: int, name: str = "target") -> np.ndarray:
    """Class ids int32 `(count,)` from the labels of `count` images.

    Args:
        values: Labels (array or tensor): class ids `(count,)` or `(count, 1)`, or one-hot /
            probability rows `(count, K)` (their argmax is taken).
        count: Integer, the number of images.
        name: String, default "target". The argument name used in error messages.

    Returns:
        int32 array `(count,)`.

    Raises:
        ValueError: For labels of another shape (e.g. segmentation masks) or fractional ids.
        TypeError: For non-numeric labels.
    """
    array = np.asarray(values.numpy() if isinstance(values, tf.Tensor) else values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric labels, got dtype {array.dtype}.")
    if array.ndim == 2 and array.shape == (count, 1):
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[0] == count:
        array = array.argmax(axis=-1)
    if array.shape != (count,):
        raise ValueError(
            f"{name}: 'labels' needs class ids (batch,) or one-hot rows "
            f"(batch, classes) for {count} images, got labels of shape "
            f"{array.shape}."
        )
    if array.dtype.kind == "f" and not np.all(array == np.round(array)):
        raise ValueError(f"{name}: 'labels' needs integer class ids, got fractions.")
    return array.astype(np.int32)
