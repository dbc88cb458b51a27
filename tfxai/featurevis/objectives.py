"""Feature-visualization objectives: `Target`s on inner layers, the logits and the image.

An objective is a `tfxai.targets.Target` whose `score` receives a `Context` instead of the
model output: the activations of the layers it names (`target.layers`), the logits and
the images being optimized. Objectives compose with `+ - * /` like every target
(`channel("mixed4a", 97) - 0.1 * diversity("mixed4a")`), and "higher is better".

Per-sample parameters make one batch optimize many objectives at once:
`channel(layer, [0, 1, 2, 3])` renders channels 0-3 as four images of one batch. The
parameters are graph inputs, so the next four channels reuse the same compiled step.

This module holds the objectives on inner layers (channel, neuron, layer energy,
direction, diversity) and the `OBJECTIVES` / `REGULARIZERS` tables; the objectives on the
logits are in `tfxai.featurevis.output_objectives`, the regularizers in
`tfxai.featurevis.regularizers`, `Context` and the shared helpers in
`tfxai.featurevis.context`. All are re-exported here.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import tokens as tokens_lib

# Re-exported: `objectives.Context`, `objectives.class_logit`, ... as before the split.
from tfxai.featurevis.context import (
    Context,
    bind_indices,
    check_channels,
    check_layer,
    indices,
    layer_key,
    layer_label,
    objective,
    pick_channel,
    spatial_mean,
)
from tfxai.featurevis.output_objectives import class_logit, segmentation_class
from tfxai.featurevis.regularizers import blur, l1, total_variation
from tfxai.target_algebra import Target

__all__ = [
    "OBJECTIVES",
    "REGULARIZERS",
    "Context",
    "blur",
    "channel",
    "class_logit",
    "direction",
    "diversity",
    "l1",
    "layer_energy",
    "layer_key",
    "neuron",
    "segmentation_class",
    "total_variation",
]


def channel(layer: Any, channels: Any, *, tokens: Any = None) -> Target:
    """Objective: the mean activation of a channel of `layer` over all positions.

    On a `(B, N, D)` token layer (a vision transformer) the positions are the patch
    tokens: the leading class/register tokens are left out (`tfxai.tokens`).

    Args:
        layer: Layer name, nested path (`"resnet50/conv4_block6_out"`), index or layer.
        channels: Integer, or a list of integers with one channel per image.
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of a
            token layer.

    Returns:
        A `Target` objective; `batch` is `len(channels)` for a list.

    Raises:
        ValueError: On a bad `layer` or `channels`; at render time, on a channel out of
            range.

    Example:
        >>> tfxai.render(model, channel("conv5_block3_out", [0, 1, 2, 3]), steps=256)

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    layer = check_layer(layer)
    ids, batch = indices(channels, "channels")
    grid = tokens_lib.check_tokens(tokens)
    return objective(
        lambda ctx, p: spatial_mean(pick_channel(ctx.spatial(layer, grid), p)),
        bind_indices(ids, "channels"),
        key=("channel", layer_key(layer), grid),
        check_fn=check_channels(layer, ids, "channels"),
        name=f"channel({layer_label(layer)!r}, {channels!r})",
        layers=(layer,),
        batch=batch,
    )


def neuron(
    layer: Any,
    channels: Any,
    y: int | None = None,
    x: int | None = None,
    *,
    tokens: Any = None,
) -> Target:
    """Objective: one unit of a channel, at position `(y, x)` (default: the center).

    On a `(B, N, D)` token layer, `(y, x)` is the patch token at row `y`, column `x` of
    its patch grid (row-major after the leading class/register tokens; `tfxai.tokens`).

    Args:
        layer: Layer reference, as in `channel`.
        channels: Integer, or a list of integers with one channel per image.
        y: Integer or `None` (default, the middle row of the activation map).
        x: Integer or `None` (default, the middle column).
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of a
            token layer.

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad arguments; at render time, on a position out of range.

    Example:
        >>> tfxai.render(model, neuron("conv4_block6_out", 12))
    """
    layer = check_layer(layer)
    ids, batch = indices(channels, "channels")
    for value, name in ((y, "y"), (x, "x")):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0
        ):
            raise ValueError(f"{name}: expected a non-negative integer or None, got {value!r}.")

    grid = tokens_lib.check_tokens(tokens)

    def score(ctx, p):
        values = pick_channel(ctx.spatial(layer, grid), p)
        if values.shape.rank != 3:
            raise ValueError(
                f"layer: neuron needs a (B, H, W, C) or (B, tokens, C) layer; "
                f"{layer_label(layer)!r} gives rank {values.shape.rank + 1}."
            )
        row = values.shape[1] // 2 if y is None else y
        col = values.shape[2] // 2 if x is None else x
        if row >= values.shape[1] or col >= values.shape[2]:
            raise ValueError(
                f"y, x: position ({row}, {col}) is outside the "
                f"{values.shape[1]}x{values.shape[2]} map of {layer_label(layer)!r}."
            )
        return values[:, row, col]

    return objective(
        score,
        bind_indices(ids, "channels"),
        key=("neuron", layer_key(layer), y, x, grid),
        check_fn=check_channels(layer, ids, "channels"),
        name=f"neuron({layer_label(layer)!r}, {channels!r}, {y}, {x})",
        layers=(layer,),
        batch=batch,
    )


def layer_energy(layer: Any) -> Target:
    """Objective: the mean squared activation of `layer` (DeepDream).

    Args:
        layer: Layer reference, as in `channel`.

    Returns:
        A `Target` objective.

    Example:
        >>> tfxai.render(model, layer_energy("conv3_block4_out"))

    Reference:
        Mordvintsev et al., "Inceptionism: Going Deeper into Neural Networks", 2015.
        https://research.google/blog/inceptionism-going-deeper-into-neural-networks/
    """
    layer = check_layer(layer)
    return objective(
        lambda ctx, p: spatial_mean(tf.square(tf.cast(ctx.activation(layer), tf.float32))),
        key=("layer_energy", layer_key(layer)),
        name=f"layer_energy({layer_label(layer)!r})",
        layers=(layer,),
    )


def direction(layer: Any, vector: Any) -> Target:
    """Objective: the activations projected on a direction, averaged over positions.

    Args:
        layer: Layer reference, as in `channel`.
        vector: Array `(C,)` (one direction) or `(B, C)` (one per image), not all zero.

    Returns:
        A `Target` objective: `mean over positions of <a, v> / |v|`.

    Raises:
        ValueError: On a bad `vector`; at render time, if its length is not `C`.

    Example:
        >>> tfxai.render(model, direction("conv4_block6_out", np.random.randn(1024)))
    """
    layer = check_layer(layer)
    try:
        array = None if isinstance(vector, str) else np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError):
        array = None
    if (
        array is None
        or array.ndim not in (1, 2)
        or array.size == 0
        or not np.all(np.isfinite(array))
        or np.any(np.linalg.norm(array, axis=-1) == 0)
    ):
        raise ValueError(
            f"vector: expected a finite non-zero array (C,) or (B, C), got {vector!r:.60}."
        )
    unit = array / np.linalg.norm(array, axis=-1, keepdims=True)

    def bind(batch):
        if unit.ndim == 1:
            return np.broadcast_to(unit, (batch,) + unit.shape).copy()
        if len(unit) != batch:
            raise ValueError(f"vector: got {len(unit)} directions for a batch of {batch}.")
        return unit

    def check(shapes, batch):
        channels = shapes["layers"][layer_key(layer)][-1]
        if unit.shape[-1] != channels:
            raise ValueError(
                f"vector: has length {unit.shape[-1]}; layer {layer_label(layer)!r} "
                f"has {channels} channels."
            )

    def score(ctx, p):
        values = tf.cast(ctx.activation(layer), tf.float32)
        weights = p
        for _ in range(values.shape.rank - 2):
            weights = weights[:, None]
        return spatial_mean(tf.reduce_sum(values * weights, axis=-1))

    return objective(
        score,
        bind,
        key=("direction", layer_key(layer)),
        check_fn=check,
        name=f"direction({layer_label(layer)!r})",
        layers=(layer,),
        batch=None if unit.ndim == 1 else len(unit),
    )


def diversity(layer: Any) -> Target:
    """Objective: minus the mean cosine similarity of each image's Gram matrix to the others.

    Added to a batch objective (`channel(layer, 5) + 0.1 * diversity(layer)` with
    `batch=4`), it pushes the images of one batch towards different styles. With one image
    it is 0.

    Args:
        layer: Layer reference, as in `channel`.

    Returns:
        A `Target` objective (higher is more diverse).

    Example:
        >>> tfxai.render(model, channel("conv4_block6_out", 7) + 0.2 * diversity(
        ...     "conv3_block4_out"), batch=4)

    Reference:
        Olah et al., "Feature Visualization", Distill 2017 (the diversity section).
        https://distill.pub/2017/feature-visualization/
    """
    layer = check_layer(layer)

    def score(ctx, p):
        values = tf.cast(ctx.activation(layer), tf.float32)
        flat = tf.reshape(values, [tf.shape(values)[0], -1, tf.shape(values)[-1]])
        gram = tf.matmul(flat, flat, transpose_a=True)
        gram = tf.math.l2_normalize(tf.reshape(gram, [tf.shape(gram)[0], -1]), axis=-1)
        similarity = tf.matmul(gram, gram, transpose_b=True)
        count = tf.cast(tf.shape(similarity)[0], tf.float32)
        others = tf.reduce_sum(similarity, axis=-1) - tf.linalg.diag_part(similarity)
        return -others / tf.maximum(count - 1.0, 1.0)

    return objective(
        score,
        key=("diversity", layer_key(layer)),
        name=f"diversity({layer_label(layer)!r})",
        layers=(layer,),
    )


OBJECTIVES = {
    "channel": channel,
    "neuron": neuron,
    "layer_energy": layer_energy,
    "direction": direction,
    "class_logit": class_logit,
    "segmentation_class": segmentation_class,
    "diversity": diversity,
}
REGULARIZERS = {"l1": l1, "total_variation": total_variation, "blur": blur}
