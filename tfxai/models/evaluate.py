"""Scores of the bundled models: classification accuracy and segmentation mean IoU."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

import numpy as np


def _predict(model: keras.Model, images: np.ndarray, batch_size: int) -> np.ndarray:
    return np.asarray(
        model.predict(np.asarray(images, np.float32), batch_size=batch_size, verbose=0)
    )


def accuracy(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 64
) -> float:
    """Fraction of images whose arg-max prediction equals the label.

    Args:
        model: A Keras classifier with `(B, classes)` logits or probabilities.
        images: Array `(n, H, W, 3)` in [0, 1].
        labels: Integer array `(n,)`.
        batch_size: Integer, default 64.

    Returns:
        Float in [0, 1].

    Example:
        >>> data = tfxai.datasets.make_shapes(300, seed=7)
        >>> accuracy(tfxai.models.load("shapes-classifier"), data.images, data.labels)
    """
    predicted = _predict(model, images, batch_size).argmax(axis=-1)
    return float(np.mean(predicted == np.asarray(labels)))


def confusion(predicted: np.ndarray, truth: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixel confusion matrix `(num_classes, num_classes)` int64, rows = truth."""
    index = np.asarray(truth, np.int64).ravel() * num_classes + np.asarray(predicted).ravel()
    return np.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def iou_from_confusion(matrix: np.ndarray) -> np.ndarray:
    """Per-class IoU `TP / (TP + FP + FN)` from a confusion matrix (NaN if a class is absent)."""
    matrix = np.asarray(matrix, np.float64)
    tp = np.diag(matrix)
    union = matrix.sum(axis=0) + matrix.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(
    model: keras.Model, images: np.ndarray, masks: np.ndarray, *, batch_size: int = 32
) -> tuple[float, np.ndarray]:
    """Mean intersection-over-union of a segmentation model over a whole set of images.

    For each class c (background included), IoU_c = TP_c / (TP_c + FP_c + FN_c) with the
    pixel counts summed over ALL images (one confusion matrix for the set, as
    `keras.metrics.MeanIoU`); the mean is over the classes present in the truth or the
    predictions. Predictions are the per-pixel arg-max of the model output.

    Args:
        model: A Keras segmentation model with `(B, H, W, classes)` output.
        images: Array `(n, H, W, 3)` in [0, 1].
        masks: One-hot `(n, H, W, classes)` masks, or a class-index map `(n, H, W)`.
        batch_size: Integer, default 32.

    Returns:
        `(mean_iou, per_class_iou)`: a float and a float64 array `(classes,)`.

    Example:
        >>> data = tfxai.datasets.make_shapes(300, seed=7, task="segmentation")
        >>> miou, per_class = mean_iou(tfxai.models.load("shapes-unet"), data.images,
        ...                            data.masks)
    """
    masks = np.asarray(masks)
    truth = masks.argmax(axis=-1) if masks.ndim == 4 else masks
    matrix: np.ndarray | int = 0
    classes = None
    for start in range(0, len(truth), 256):
        logits = _predict(model, images[start : start + 256], batch_size)
        classes = logits.shape[-1]
        matrix = matrix + confusion(logits.argmax(axis=-1), truth[start : start + 256], classes)
    per_class = iou_from_confusion(np.asarray(matrix))
    return float(np.nanmean(per_class)), per_class
