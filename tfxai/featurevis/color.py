"""Decorrelated color: the ImageNet color-correlation square root and `to_rgb`.

Feature-visualization images may be optimized in a decorrelated color space: each
channel vector is multiplied by the square root of the ImageNet color correlation matrix
(normalized by its largest column norm) before a sigmoid squashes it to valid RGB. Used by
the parameterizations of `tfxai.featurevis.param`, which re-exports these names.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

# Square root of the ImageNet color correlation matrix (rows: R, G, B output channels;
# columns: decorrelated components), as published with Lucid.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
# The same matrix divided by its largest column norm: the matrix `to_rgb` applies.
COLOR_CORRELATION_NORMALIZED = (
    COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
).astype(np.float32)


def check_decorrelate(decorrelate: Any, channels: int) -> bool:
    """Checks the `decorrelate` flag against the channel count; returns it as a bool.

    Raises:
        TypeError: If `decorrelate` is not a boolean.
        ValueError: If it is True and `channels` is not 3.
    """
    if not isinstance(decorrelate, (bool, np.bool_)):
        raise TypeError(f"decorrelate: expected True or False, got {decorrelate!r}.")
    if decorrelate and channels != 3:
        raise ValueError(
            f"decorrelate: color decorrelation needs channels == 3, got "
            f"channels={channels}; pass decorrelate=False."
        )
    return bool(decorrelate)


def to_rgb(x: tf.Tensor, decorrelate: bool) -> tf.Tensor:
    """Maps an unconstrained image batch to valid RGB in [0, 1] (TF ops).

    With `decorrelate`, each channel vector `c` first becomes `M @ c`, with `M` the
    ImageNet color-correlation square root normalized by its largest column norm
    (`COLOR_CORRELATION_NORMALIZED`); then a sigmoid.

    Args:
        x: float tensor `(..., C)`; `C` must be 3 with `decorrelate`.
        decorrelate: Boolean. Whether `x` lives in the decorrelated color space.

    Returns:
        float32 tensor of the shape of `x`, in [0, 1].

    Raises:
        ValueError: If `decorrelate` and the last axis of `x` is not 3.
    """
    x = tf.cast(x, tf.float32)
    if decorrelate:
        if x.shape[-1] != 3:
            raise ValueError(
                f"x: color decorrelation needs 3 channels, got a tensor of shape {tuple(x.shape)}."
            )
        x = tf.tensordot(x, tf.constant(COLOR_CORRELATION_NORMALIZED.T), axes=1)
    return tf.sigmoid(x)
