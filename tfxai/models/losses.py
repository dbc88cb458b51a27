"""The zoo's training losses: soft Dice plus cross-entropy, and a zero background logit.

Keras is imported inside the functions, as in `tfxai.models.train`, which uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

#: A Keras loss `fn(y_true, y_pred) -> (B,)`.
Loss = Callable[["tf.Tensor", "tf.Tensor"], "tf.Tensor"]


def cell_labels(classmap: np.ndarray, cell: int) -> np.ndarray:
    """Class of each `cell x cell` block for the classifier's `"class_map"`: `(n, h, w)`.

    A block takes the class of its central 2x2 pixels when they agree and the class covers
    at least 3/4 of the block, else 0 (background): the target is a slightly eroded
    segmentation, so the class map, and the CAMs read from it, peak inside the objects
    rather than on their borders.
    """
    n, height, width = classmap.shape
    blocks = classmap.reshape(n, height // cell, cell, width // cell, cell)
    lo, hi = cell // 2 - 1, cell // 2 + 1
    centre = blocks[:, :, lo:hi, :, lo:hi]
    first = centre[:, :, :1, :, :1]
    agree = (centre == first).all(axis=(2, 4))
    covered = (blocks == first).mean(axis=(2, 4)) >= 0.75
    return np.where(agree & covered, first[:, :, 0, :, 0], 0).astype(np.uint8)


def ce_dice_loss(num_classes: int | None, dice_weight: float) -> Loss:
    """Per-sample pixel cross-entropy plus `dice_weight` x (1 - mean soft Dice) on logits.

    `num_classes` may be `None`: the last axis of the logits.
    """
    import keras
    from keras import ops

    def loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        y_true = ops.cast(y_true, "int32")
        ce = ops.mean(
            keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True),
            axis=(1, 2),
        )
        probs = ops.softmax(y_pred, axis=-1)
        truth = ops.one_hot(y_true, num_classes or y_pred.shape[-1])
        overlap = ops.sum(probs * truth, axis=(1, 2))
        total = ops.sum(probs + truth, axis=(1, 2))
        dice = (2 * overlap + 1.0) / (total + 1.0)
        return ce + dice_weight * (1.0 - ops.mean(dice, axis=-1))

    return loss


def with_background(loss_fn: Loss) -> Loss:
    """Applies `loss_fn` to class scores without a background channel, its logit taken as 0.

    The classifier has no background class: with a background logit of 0 next to its
    class scores (and labels shifted by one), a class must score above 0 to win, so the
    class map is positive on objects and negative elsewhere, and so are its CAMs.
    """
    from keras import ops

    def loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        background = ops.zeros_like(y_pred[..., :1])
        return loss_fn(y_true, ops.concatenate([background, y_pred], axis=-1))

    return loss


def shifted_ce(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Sparse cross-entropy on logits with labels `y + 1` (after `with_background`)."""
    import keras
    from keras import ops

    return keras.losses.sparse_categorical_crossentropy(
        ops.cast(y_true, "int32") + 1, y_pred, from_logits=True
    )
