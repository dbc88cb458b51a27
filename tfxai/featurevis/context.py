"""What objectives score: the `Context`, and the helpers every objective factory shares.

An objective is a `tfxai.targets.Target` whose `score` receives a `Context` instead of the
model output: the activations of the layers it names (`target.layers`), the logits and
the images being optimized. The factories are in `tfxai.featurevis.objectives` (inner
layers), `tfxai.featurevis.output_objectives` (the logits) and
`tfxai.featurevis.regularizers` (the image).
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import tokens as tokens_lib
from tfxai.target_algebra import Target


@dataclasses.dataclass(frozen=True)
class Context:
    """What an objective scores, inside the compiled step.

    Attributes:
        activations: Dict `{layer reference: tensor}` of the layers the objective names.
        logits: The model output behind a softmax/sigmoid, `(B, K)` or `(B, H, W, K)`.
        images: The images being optimized, `(B, H, W, C)` in [0, 1], before transforms.
        input_size: `(H, W)` the model sees (the images are resized to it), or `None`
            (the images' size): the aspect ratio that token grids are inferred for.
    """

    activations: dict
    logits: tf.Tensor
    images: tf.Tensor
    input_size: tuple[int, int] | None = None

    def activation(self, layer: Any) -> tf.Tensor:
        """The activations `(B, ..., C)` of `layer` (a reference the objective named)."""
        return self.activations[layer_key(layer)]

    def spatial(self, layer: Any, tokens: tokens_lib.TokenGrid | None = None) -> tf.Tensor:
        """The activations of `layer`, a `(B, N, D)` token sequence laid out on its patch
        grid `(B, h, w, D)` (leading class/register tokens dropped; `tfxai.tokens`)."""
        values = self.activation(layer)
        if values.shape.rank != 3:
            return values
        size = self.input_size or tuple(self.images.shape[1:3])
        return tokens_lib.to_grid(values, tokens, size, layer_label(layer))


# A `Target` that scores a `Context`: what every objective factory builds.
objective = functools.partial(Target, reads="context")


def layer_key(layer: Any) -> Any:
    """A hashable key for a layer reference: the name or path, the index, or the object."""
    if isinstance(layer, (str, numbers.Integral)):
        return layer
    return ("layer", id(layer))


def layer_label(layer: Any) -> Any:
    """What messages call a layer reference: its name, path or index."""
    return layer if isinstance(layer, (str, numbers.Integral)) else getattr(layer, "name", "?")


def check_layer(layer: Any) -> Any:
    """Returns `layer`, checked to be a layer reference (not `None` or a boolean)."""
    if layer is None or isinstance(layer, bool):
        raise ValueError(
            f"layer: expected a layer name, nested path, index or layer, got {layer!r}."
        )
    return layer


def indices(values: Any, name: str) -> tuple[np.ndarray, int | None]:
    """An int32 array from an int or a sequence of non-negative ints; batch or None."""
    array = np.asarray(values)
    if (
        array.ndim > 1
        or array.size == 0
        or not np.issubdtype(array.dtype, np.integer)
        or isinstance(values, bool)
        or np.any(array < 0)
    ):
        raise ValueError(
            f"{name}: expected a non-negative integer or a non-empty list of "
            f"them (one per image), got {values!r}."
        )
    return array.astype(np.int32), (None if array.ndim == 0 else len(array))


def bind_indices(array: np.ndarray, name: str) -> Callable[[int], np.ndarray]:
    """A `bind` that gives each image its index (broadcasting a single one)."""

    def bind(batch):
        if array.ndim == 0:
            return np.full(batch, array, dtype=np.int32)
        if len(array) != batch:
            raise ValueError(
                f"{name}: got {len(array)} values for a batch of {batch} images; "
                f"expected one per image."
            )
        return array

    return bind


def check_channels(layer: Any, ids: np.ndarray, name: str) -> Callable[[dict, int], None]:
    """A `check` that refuses channel `ids` beyond the channels of `layer`."""

    def check(shapes, batch):
        channels = shapes["layers"][layer_key(layer)][-1]
        bad = [int(i) for i in np.atleast_1d(ids) if int(i) >= channels]
        if bad:
            raise ValueError(
                f"{name}: index {bad[0]} is out of range; layer "
                f"{layer_label(layer)!r} has {channels} channels."
            )

    return check


def spatial_mean(values: tf.Tensor) -> tf.Tensor:
    """The mean over every axis but the batch: `(B, ...) -> (B,)`."""
    axes = list(range(1, values.shape.rank))
    return tf.reduce_mean(values, axis=axes) if axes else values


def pick_channel(activations: tf.Tensor, ids: tf.Tensor) -> tf.Tensor:
    """Per-sample channel `ids[i]` of `(B, ..., C)` activations, float32 `(B, ...)`."""
    activations = tf.cast(activations, tf.float32)
    one_hot = tf.one_hot(ids, tf.shape(activations)[-1], dtype=tf.float32)
    for _ in range(activations.shape.rank - 2):
        one_hot = one_hot[:, None]
    return tf.reduce_sum(activations * one_hot, axis=-1)
