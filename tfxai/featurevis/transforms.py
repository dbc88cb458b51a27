"""Random image transforms for transformation robustness, stateless and differentiable.

One idea: the literal transform chain, one small factory per step (pad, jitter, scale,
rotate, compose, crop/pad); kept whole because the steps are read together, in the order
`standard()` chains them.

A transform is a callable `t(images, seed) -> images`: `images` is float32
`(B, H, W, C)` and `seed` a shape-`[2]` integer tensor fed to the stateless random ops
(`tf.random.stateless_uniform`), so a render loop can pass `[user_seed, step]` and get
the same draws on every run without Python-side state. Transforms keep the batch size and
the channels (padding, cropping and scaling change the spatial size), run inside
`tf.function` with an unknown batch size, and are differentiable with respect to the
images. The factories below build the literal chain, one transform per step; `compose`
chains them, giving each child its own seed; `standard()` is Lucid's recipe, by default
fused into one resampling (`tfxai.featurevis.affine.random_affine`). The `Transform` type
and the shared checks are in `tfxai.featurevis.transform_core`.

Example:
    >>> t = compose(pad(12), jitter(8), random_rotate(range(-10, 11)))
    >>> out = t(images, tf.constant([0, step]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import arguments

# Re-exported: `transforms.random_affine`, `transforms.Transform`, ... as before the split.
from tfxai.featurevis.affine import random_affine
from tfxai.featurevis.transform_core import (
    STANDARD_ANGLES,
    STANDARD_SCALES,
    Transform,
    check_choices,
    check_images,
    check_int,
    check_real,
    min_size_checks,
)

PAD_MODES = ("constant", "reflect")


def pad(width: int, value: float = 0.5, *, mode: str = "constant") -> Transform:
    """Pads `width` pixels on every side of the images (the seed is unused).

    Args:
        width: Integer >= 0. Pixels added on each side.
        value: Float, default 0.5. Fill value of the "constant" mode.
        mode: String, default "constant". `"constant"` (fill with `value`) or `"reflect"`
            (mirror without repeating the edge; needs images larger than `width`).

    Returns:
        A `Transform`: `(B, H, W, C) -> (B, H + 2 width, W + 2 width, C)`.

    Raises:
        ValueError: On a bad `width`, `value` or `mode`.

    Example:
        >>> pad(12)(images, [0, 0])  # a 0.5 border of 12 pixels
    """
    width = check_int(width, "width", 0)
    value = check_real(value, "value")
    if mode not in PAD_MODES:
        raise ValueError(f"mode: expected one of {', '.join(map(repr, PAD_MODES))}, got {mode!r}.")
    paddings = [[0, 0], [width, width], [width, width], [0, 0]]

    def fn(images, seed):
        if mode == "reflect":
            with tf.control_dependencies(min_size_checks(images, width, "width", "reflect pad")):
                return tf.pad(images, paddings, mode="REFLECT")
        return tf.pad(images, paddings, constant_values=value)

    extra = f", value={value}" if mode == "constant" else ", mode='reflect'"
    return Transform(fn, f"pad({width}{extra})")


def jitter(d: int) -> Transform:
    """Crops each image to `(H - d, W - d)` at its own random offset in `[0, d]`.

    Every image of the batch draws its own (row, column) offset; the crop is a gather, so
    gradients flow back to the cropped pixels.

    Args:
        d: Integer >= 0. Maximal shift in pixels; the output is `d` pixels smaller.

    Returns:
        A `Transform`: `(B, H, W, C) -> (B, H - d, W - d, C)`.

    Raises:
        ValueError: On a bad `d`, or images not larger than `d` pixels.

    Example:
        >>> jitter(8)(images, [0, step])
    """
    d = check_int(d, "d", 0)

    def fn(images, seed):
        shape = tf.shape(images)
        with tf.control_dependencies(min_size_checks(images, d, "d", "jitter")):
            offsets = tf.random.stateless_uniform(
                [shape[0], 2], seed, minval=0, maxval=d + 1, dtype=tf.int32
            )
        rows = offsets[:, :1] + tf.range(shape[1] - d)[None]  # (B, H - d)
        cols = offsets[:, 1:] + tf.range(shape[2] - d)[None]  # (B, W - d)
        out = tf.gather(images, rows, axis=1, batch_dims=1)
        return tf.gather(out, cols, axis=2, batch_dims=1)

    return Transform(fn, f"jitter({d})")


def random_scale(scales: Sequence[float]) -> Transform:
    """Resizes the batch bilinearly by one scale drawn from `scales` per call.

    The new size is `round(H * s), round(W * s)` (at least 1); all images of a call share
    the scale so the batch keeps one size.

    Args:
        scales: Non-empty sequence of positive floats, e.g. `STANDARD_SCALES`.

    Returns:
        A `Transform`: `(B, H, W, C) -> (B, round(H s), round(W s), C)`.

    Raises:
        ValueError: If `scales` is empty or holds a non-positive or non-finite value.

    Example:
        >>> random_scale([0.9, 1.0, 1.1])(images, [0, step])
    """
    scales = check_choices(scales, "scales", positive=True)
    table = tf.constant(scales, tf.float32)

    def fn(images, seed):
        index = tf.random.stateless_uniform([], seed, minval=0, maxval=len(scales), dtype=tf.int32)
        size = tf.cast(tf.shape(images)[1:3], tf.float32) * tf.gather(table, index)
        size = tf.maximum(tf.cast(tf.round(size), tf.int32), 1)
        return tf.image.resize(images, size, method="bilinear")

    return Transform(fn, f"random_scale({list(scales)})")


def _bilinear_sample(images, ys, xs, fill_value):
    """Samples `images` at float pixel coordinates `ys, xs` `(B, h, w)`, bilinear.

    Pixel centers are at integer coordinates. Outside the image the samples blend into
    `fill_value` (a one-pixel constant border, clamped), so the map is linear in `images`
    and its gradient is the exact adjoint of the interpolation.
    """
    shape = tf.shape(images)
    height, width = shape[1] + 2, shape[2] + 2
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=fill_value)
    flat = tf.reshape(padded, [-1, shape[3]])
    ys = tf.clip_by_value(ys + 1.0, 0.0, tf.cast(height - 1, tf.float32))
    xs = tf.clip_by_value(xs + 1.0, 0.0, tf.cast(width - 1, tf.float32))
    y0, x0 = tf.floor(ys), tf.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    y1, x1 = tf.minimum(y0 + 1, height - 1), tf.minimum(x0 + 1, width - 1)
    base = tf.range(shape[0])[:, None, None] * (height * width)

    def take(y, x):
        return tf.gather(flat, base + y * width + x)

    top = take(y0, x0) * (1.0 - wx) + take(y0, x1) * wx
    bottom = take(y1, x0) * (1.0 - wx) + take(y1, x1) * wx
    return top * (1.0 - wy) + bottom * wy


def random_rotate(angles: Sequence[float], fill_value: float = 0.5) -> Transform:
    """Rotates each image by its own angle drawn from `angles` (degrees), bilinear.

    Positive angles turn the image counter-clockwise as displayed (row 0 at the top),
    about its center `((H - 1) / 2, (W - 1) / 2)`: 90 degrees on a square image is
    `np.rot90(image)`. Corners uncovered by the rotation blend into `fill_value`. The
    sampling is built from gathers, so the gradient is the exact adjoint of the bilinear
    interpolation.

    Args:
        angles: Non-empty sequence of floats, in degrees, e.g. `range(-10, 11)`.
        fill_value: Float, default 0.5. Value outside the rotated image (Lucid fills with
            0; 0.5 matches the gray of `pad`).

    Returns:
        A `Transform`: `(B, H, W, C) -> (B, H, W, C)`.

    Raises:
        ValueError: If `angles` is empty or holds a non-finite value, or on a bad
            `fill_value`.

    Example:
        >>> random_rotate(range(-10, 11))(images, [0, step])
    """
    angles = check_choices(angles, "angles")
    fill_value = check_real(fill_value, "fill_value")
    table = tf.constant(np.deg2rad(angles), tf.float32)

    def fn(images, seed):
        shape = tf.shape(images)
        index = tf.random.stateless_uniform(
            [shape[0]], seed, minval=0, maxval=len(angles), dtype=tf.int32
        )
        theta = tf.gather(table, index)[:, None, None]
        cos, sin = tf.cos(theta), tf.sin(theta)
        cy = tf.cast(shape[1] - 1, tf.float32) / 2
        cx = tf.cast(shape[2] - 1, tf.float32) / 2
        y = tf.cast(tf.range(shape[1]), tf.float32)[None, :, None] - cy
        x = tf.cast(tf.range(shape[2]), tf.float32)[None, None, :] - cx
        # Output pixel (y, x) reads the input at the inverse rotation of its offset.
        ys = sin * x + cos * y + cy
        xs = cos * x - sin * y + cx
        out = _bilinear_sample(images, ys, xs, fill_value)
        out.set_shape(images.shape)
        return out

    return Transform(fn, f"random_rotate({list(angles)}, fill_value={fill_value})")


def compose(*transforms: Callable[[tf.Tensor, Any], tf.Tensor]) -> Transform:
    """Chains transforms, giving each its own seed split from the call's seed.

    Child `i` gets `tf.random.experimental.stateless_split(seed, n)[i]`, so the draws of
    the children are independent and the whole chain is reproducible from one seed.

    Args:
        *transforms: Callables `t(images, seed) -> images` (e.g. `Transform`s), applied
            in order.

    Returns:
        A `Transform`.

    Raises:
        ValueError: If no transform is given.
        TypeError: If a transform is not callable.

    Example:
        >>> t = compose(pad(12), jitter(8))
        >>> t(images, [0, step])
    """
    if not transforms:
        raise ValueError("transforms: expected at least one transform, got none.")
    for i, t in enumerate(transforms):
        if not callable(t):
            raise TypeError(
                f"transforms: expected callables t(images, seed), got "
                f"{type(t).__name__} at position {i}."
            )

    def fn(images, seed):
        seeds = tf.random.experimental.stateless_split(seed, num=len(transforms))
        for i, t in enumerate(transforms):
            images = t(images, seeds[i])
        return images

    return Transform(fn, f"compose({', '.join(map(repr, transforms))})")


def standard(fused: bool = True, output_size: int | tuple[int, int] | None = None) -> Transform:
    """Lucid's standard transforms: pad 12, jitter 8, scale 0.9-1.1, rotate +-10, jitter 4.

    In order: pad 12 (constant 0.5), jitter 8, scale from `STANDARD_SCALES` (0.90 to 1.10
    in steps of 0.02), rotate by integer degrees in -10..10, jitter 4.

    Args:
        fused: Boolean, default True. One resampling per image (`random_affine`, every
            draw per image, a fixed output size `H + 12`) instead of the chain
            `compose(pad, jitter, random_scale, random_rotate, jitter)` (three
            resamplings, one scale per batch, a size that changes with the scale).
        output_size: Integer, `(height, width)` or `None` (default). Fused only: resample
            straight to this size (the renderer passes the model's input size).

    Returns:
        A `Transform`.

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    if arguments.check_bool(fused, "fused"):
        return random_affine(12, 8, STANDARD_SCALES, STANDARD_ANGLES, 4, 0.5, output_size)
    if output_size is not None:
        raise ValueError("output_size: only for the fused transforms (fused=True).")
    return compose(
        pad(12, 0.5),
        jitter(8),
        random_scale(STANDARD_SCALES),
        random_rotate(STANDARD_ANGLES),
        jitter(4),
    )


STANDARD = standard()


def crop_or_pad_to(images: Any, size: int | tuple[int, int], value: float = 0.5) -> tf.Tensor:
    """Center-crops or pads (with `value`) images to `size`, e.g. back to a model's input.

    Where a side is longer than the target it is cropped, keeping the center (the extra
    odd pixel is dropped at the bottom/right); where shorter it is padded with `value`
    (the extra odd pixel goes at the bottom/right).

    Args:
        images: float32 tensor `(B, H, W, C)`.
        size: Integer or pair of integers `(height, width)`, positive.
        value: Float, default 0.5. Fill value of the padding.

    Returns:
        float32 tensor `(B, height, width, C)`.

    Raises:
        ValueError: On a bad `images`, `size` or `value`.
    """
    pair = arguments.int_pair(size, "size")
    value = check_real(value, "value")
    images = check_images(images)
    target = tf.constant(pair, tf.int32)
    current = tf.shape(images)[1:3]
    start = tf.maximum(current - target, 0) // 2
    kept = tf.minimum(current, target)
    out = images[:, start[0] : start[0] + kept[0], start[1] : start[1] + kept[1]]
    missing = target - kept
    before = missing // 2
    paddings = tf.stack(
        [[0, 0], [before[0], missing[0] - before[0]], [before[1], missing[1] - before[1]], [0, 0]]
    )
    out = tf.pad(out, paddings, constant_values=value)
    out.set_shape([images.shape[0], pair[0], pair[1], images.shape[3]])
    return out
