"""Lucid's transform chain fused into one bilinear resampling per image.

`random_affine` draws, per image, the two jitters, the zoom and the angle of the standard
chain (`tfxai.featurevis.transforms`) and maps the pixels through one affine matrix, so
the image is resampled once instead of three times.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfxai import arguments
from tfxai.featurevis.transform_core import (
    STANDARD_ANGLES,
    STANDARD_SCALES,
    Transform,
    check_choices,
    check_int,
    check_real,
    min_size_checks,
)


def random_affine(
    pad_width: int = 12,
    jitter_before: int = 8,
    scales: Sequence[float] = STANDARD_SCALES,
    angles: Sequence[float] = STANDARD_ANGLES,
    jitter_after: int = 4,
    fill_value: float = 0.5,
    output_size: int | tuple[int, int] | None = None,
) -> Transform:
    """Lucid's transform chain as one bilinear resampling per image (one op, per element).

    Equivalent to `pad(pad_width, fill_value)`, `jitter(jitter_before)`, a zoom by `s`
    about the center (from `scales`), `random_rotate(angles, fill_value)` and
    `jitter(jitter_after)`, except that the output keeps the size of the unscaled chain,
    `H + 2 pad_width - jitter_before - jitter_after` (a zoom in crops the border, a zoom
    out shows more of the `fill_value` surround), and the image is resampled once instead
    of three times. Every image of the batch draws its own offsets, scale and angle. The
    pixels map through one affine matrix per image (`tf.raw_ops.ImageProjectiveTransformV3`,
    whose gradient TensorFlow computes by warping the output gradient back).

    Args:
        pad_width: Integer >= 0, default 12. Constant padding before the first jitter.
        jitter_before: Integer >= 0, default 8. First random shift in pixels.
        scales: Non-empty sequence of positive floats, default 0.90-1.10 (step 0.02).
        angles: Non-empty sequence of floats in degrees, default -10..10.
        jitter_after: Integer >= 0, default 4. Last random shift in pixels.
        fill_value: Float, default 0.5. Value outside the image.
        output_size: Integer, `(height, width)` or `None` (default). Resample straight to
            this size (as a bilinear `tf.image.resize` of the result would, without the
            extra pass), e.g. the model's input size.

    Returns:
        A `Transform`: `(B, H, W, C) -> (B, H + 2 pad - j1 - j2, W + ..., C)`, or
        `(B, *output_size, C)`.

    Raises:
        ValueError: On a bad argument, or images smaller than the two jitters allow.

    Example:
        >>> random_affine()(images, [0, step])  # Lucid's standard set
    """
    pad_width = check_int(pad_width, "pad_width", 0)
    jitter_before = check_int(jitter_before, "jitter_before", 0)
    jitter_after = check_int(jitter_after, "jitter_after", 0)
    scales = check_choices(scales, "scales", positive=True)
    angles = check_choices(angles, "angles")
    fill_value = check_real(fill_value, "fill_value")
    resize = None if output_size is None else arguments.int_pair(output_size, "output_size")
    shrink = jitter_before + jitter_after - 2 * pad_width
    scale_table = tf.constant(scales, tf.float32)
    angle_table = tf.constant(np.deg2rad(angles), tf.float32)

    def fn(images, seed):
        shape = tf.shape(images)
        batch = shape[0]
        natural = shape[1:3] - shrink
        size = natural if resize is None else tf.constant(resize, tf.int32)
        ky, kx = tf.unstack(tf.cast(natural, tf.float32) / tf.cast(size, tf.float32))
        with tf.control_dependencies(
            min_size_checks(images, max(shrink, 0), "jitter_before", "random_affine")
        ):
            seeds = tf.random.experimental.stateless_split(seed, num=4)
        before = _centered_shift(seeds[0], batch, jitter_before)
        after = _centered_shift(seeds[1], batch, jitter_after)
        zoom = tf.gather(
            scale_table,
            tf.random.stateless_uniform(
                [batch], seeds[2], minval=0, maxval=len(scales), dtype=tf.int32
            ),
        )
        theta = tf.gather(
            angle_table,
            tf.random.stateless_uniform(
                [batch], seeds[3], minval=0, maxval=len(angles), dtype=tf.int32
            ),
        )
        cos, sin = tf.cos(theta) / zoom, tf.sin(theta) / zoom
        out_center = (tf.cast(size, tf.float32) - 1.0) / 2.0
        in_center = (tf.cast(shape[1:3], tf.float32) - 1.0) / 2.0
        # Centered output offset (y, x), resized, + after -> rotated back, unzoomed, + before.
        y0 = after[:, 0] - ky * out_center[0]
        x0 = after[:, 1] - kx * out_center[1]
        matrices = tf.stack(
            [
                cos * kx,
                -sin * ky,
                cos * x0 - sin * y0 + before[:, 1] + in_center[1],
                sin * kx,
                cos * ky,
                sin * x0 + cos * y0 + before[:, 0] + in_center[0],
                tf.zeros_like(cos),
                tf.zeros_like(cos),
            ],
            axis=1,
        )
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=matrices,
            output_shape=size,
            fill_value=tf.constant(fill_value, images.dtype),
            interpolation="BILINEAR",
            fill_mode="CONSTANT",
        )

    return Transform(
        fn,
        f"random_affine(pad_width={pad_width}, jitter_before="
        f"{jitter_before}, scales={len(scales)} values, angles="
        f"{len(angles)} values, jitter_after={jitter_after}, "
        f"fill_value={fill_value}" + ("" if resize is None else f", output_size={resize}") + ")",
    )


def _centered_shift(seed, batch, jitter):
    """Per-image integer offsets in `[0, jitter]`, minus `jitter / 2`: float32 `(B, 2)`."""
    offsets = tf.random.stateless_uniform(
        [batch, 2], seed, minval=0, maxval=jitter + 1, dtype=tf.int32
    )
    return tf.cast(offsets, tf.float32) - jitter / 2.0
