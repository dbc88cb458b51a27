"""The `Transform` type and the argument checks every transform factory shares.

A transform is a callable `t(images, seed) -> images`: `images` is float32
`(B, H, W, C)` and `seed` a shape-`[2]` integer tensor fed to the stateless random ops.
The factories are in `tfxai.featurevis.transforms` (the literal chain) and
`tfxai.featurevis.affine` (the fused resampling).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

STANDARD_SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.90 ... 1.10
STANDARD_ANGLES = tuple(range(-10, 11))  # degrees


class Transform:
    """A random image transform `t(images, seed) -> images`, built by the factories below.

    Args:
        fn: Callable `(images, seed) -> images` on a checked float32 `(B, H, W, C)` tensor
            and an int64 `[2]` seed.
        name: String. What `repr` shows, e.g. `"jitter(8)"`.
    """

    def __init__(self, fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor], name: str) -> None:
        self.fn = fn
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __call__(self, images: Any, seed: Any) -> tf.Tensor:
        """Transforms `images` (float32 `(B, H, W, C)`) with the draws of `seed` (`[2]`).

        Args:
            images: Float tensor or array `(B, H, W, C)`.
            seed: Integer tensor or pair `[2]`.

        Returns:
            float32 tensor `(B, H', W', C)`.

        Raises:
            ValueError: If `images` is not 4-D or `seed` is not an integer `[2]` tensor.
        """
        return self.fn(check_images(images), _check_seed(seed))


# --------------------------------------------------------------------------- checks


def check_int(value: Any, name: str, low: int) -> int:
    """Checks an integer argument `>= low`; returns it as an int.

    Raises:
        ValueError: Naming `name`, for a non-integer, a boolean or a value below `low`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}.")
    return int(value)


def check_real(value: Any, name: str) -> float:
    """Checks a finite real argument; returns it as a float.

    Raises:
        ValueError: Naming `name`, for a non-number, a boolean, NaN or an infinity.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(float(value))
    ):
        raise ValueError(f"{name}: expected a finite number, got {value!r}.")
    return float(value)


def check_choices(values: Any, name: str, positive: bool = False) -> tuple[float, ...]:
    """A non-empty sequence of finite numbers (> 0 with `positive`) as a tuple of floats.

    Raises:
        ValueError: Naming `name`, for anything else.
    """
    expected = "positive numbers" if positive else "numbers"
    if isinstance(values, (str, bytes)) or not np.iterable(values):
        raise ValueError(f"{name}: expected a non-empty sequence of {expected}, got {values!r}.")
    values = tuple(values)
    if not values or any(
        isinstance(v, bool)
        or not isinstance(v, numbers.Real)
        or not np.isfinite(float(v))
        or (positive and v <= 0)
        for v in values
    ):
        raise ValueError(
            f"{name}: expected a non-empty sequence of finite {expected}, got {values!r}."
        )
    return tuple(float(v) for v in values)


def check_images(images: Any) -> tf.Tensor:
    """`images` as a float32 tensor, checked to be a 4-D batch `(B, H, W, C)`."""
    images = tf.cast(images, tf.float32)
    if images.shape.rank != 4:
        raise ValueError(
            f"images: expected a batch of shape (B, H, W, C), got shape {tuple(images.shape)}."
        )
    return images


def _check_seed(seed):
    seed = tf.convert_to_tensor(seed)
    if not seed.dtype.is_integer or seed.shape.rank != 1 or seed.shape[0] not in (None, 2):
        raise ValueError(
            f"seed: expected an integer tensor of shape [2] (e.g. "
            f"[user_seed, step]), got {seed.dtype.name} of shape "
            f"{tuple(seed.shape)}."
        )
    return tf.cast(seed, tf.int64)


def min_size_checks(images: tf.Tensor, size: int, name: str, what: str) -> list:
    """Checks (statically when known) that both spatial sizes exceed `size`.

    Args:
        images: Tensor `(B, H, W, C)`.
        size: Integer, the size both sides must exceed.
        name: String, the argument named in the message.
        what: String, what needs the size (e.g. "jitter").

    Returns:
        A list of assert ops to run first (empty when the sizes are static).

    Raises:
        ValueError: If a static size is too small.
    """
    static = images.shape[1:3]
    if None not in static:
        if min(static) <= size:
            raise ValueError(
                f"{name}: {what} {size} needs images larger than {size} "
                f"pixels, got spatial size {tuple(static)}."
            )
        return []
    return [
        tf.debugging.assert_greater(
            tf.reduce_min(tf.shape(images)[1:3]),
            size,
            message=f"{name}: images too small for {what} {size}.",
        )
    ]
