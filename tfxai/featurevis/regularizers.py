"""Feature-visualization regularizers: penalties on the image itself (subtract them).

`l1`, `total_variation` and `blur` read `Context.images`, the images being optimized;
use them as `objective - weight * regularizer()`.
"""

from __future__ import annotations

import tensorflow as tf

from tfxai.featurevis.context import objective, spatial_mean
from tfxai.target_algebra import Target


def l1(constant: float = 0.5) -> Target:
    """Regularizer: the mean absolute distance of the image from `constant` (subtract it).

    Args:
        constant: Float, default 0.5 (mid grey).

    Returns:
        A `Target` (a penalty: use `objective - weight * l1()`).
    """
    value = float(constant)
    return objective(
        lambda ctx, p: spatial_mean(tf.abs(ctx.images - value)),
        key=("l1", value),
        name=f"l1({value:g})",
    )


def total_variation() -> Target:
    """Regularizer: the mean absolute difference of neighbouring pixels (subtract it).

    Returns:
        A `Target` (a penalty: use `objective - weight * total_variation()`).
    """

    def score(ctx, p):
        rows = tf.abs(ctx.images[:, 1:] - ctx.images[:, :-1])
        cols = tf.abs(ctx.images[:, :, 1:] - ctx.images[:, :, :-1])
        return spatial_mean(rows) + spatial_mean(cols)

    return objective(score, key=("total_variation",), name="total_variation()")


def blur() -> Target:
    """Regularizer: the squared distance of the image from its own 3x3 blur (subtract it).

    The blurred copy is held constant, so the gradient pulls each pixel towards its
    neighbourhood mean (a differentiable form of blurring the image every step).

    Returns:
        A `Target` (a penalty: use `objective - weight * blur()`).
    """

    def score(ctx, p):
        images = ctx.images
        kernel = tf.ones([3, 3, images.shape[-1], 1], images.dtype) / 9.0
        padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        smooth = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        return 0.5 * spatial_mean(tf.square(images - tf.stop_gradient(smooth)))

    return objective(score, key=("blur",), name="blur()")
