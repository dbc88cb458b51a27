"""Shared machinery of the Grad-CAM family.

A CAM method is a weighting function `(activations, gradients) -> weights`, with weights of
shape `(B, 1, 1, K)` (one per channel) or `(B, h, w, K)` (one per position); on volumes
(a model with a 5-D input) every shape has one more spatial axis, `(B, d, h, w, K)`, and
the maps are `(B, D, H, W)`. This module
does the rest of a CAM on top of `tfxai.explainer.Explainer` (batching, targets,
normalization, the function twin): the compiled tape pass and
`relu(sum_k weights * activations)` resized to the input size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import explainer, token_influence
from tfxai import tokens as tokens_lib
from tfxai.explainer import (  # noqa: F401 (the names CAM modules and tests use from here)
    as_tensors,
    function_form,
    normalize_maps,
)
from tfxai.layer_lookup import leaf_layers, static_shape
from tfxai.targets import Target

# The function twins' explainers, as kept in the package's one cache (read by tests).
_cache = cache_lib.View(cache_lib.EXPLAINER)


def weighted_map(weights: tf.Tensor, activations: tf.Tensor, size: tuple[int, ...]) -> tf.Tensor:
    """`relu(sum_k weights * activations)` resized to `size`: `(B, H, W)`, or
    `(B, D, H, W)` for volumes."""
    cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
    return resize_maps(cam, size)


def resize_maps(maps: tf.Tensor, size: tuple[int, ...]) -> tf.Tensor:
    """Resizes `(B, h, w)` maps bilinearly, or `(B, d, h, w)` maps trilinearly, to `size`.

    Both use half-pixel centers. Trilinear interpolation is separable: each depth slice is
    resized bilinearly to `(H, W)`, then the depth axis is resized linearly (a bilinear
    resize of `(d, H * W)` planes to `(D, H * W)`, whose second axis keeps its size and so
    its exact values).

    Args:
        maps: float32 tensor `(B, h, w)` or `(B, d, h, w)`.
        size: Tuple `(H, W)` or `(D, H, W)`, one entry per spatial axis of `maps`.

    Returns:
        float32 tensor `(B, *size)`.
    """
    size = tuple(int(s) for s in size)
    if tuple(maps.shape[1:]) == size:
        return maps
    if len(size) == 2:
        return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]
    depth, height, width = (int(s) for s in maps.shape[1:])
    batch = tf.shape(maps)[0]
    planes = tf.reshape(maps, [-1, height, width, 1])  # (B * d, h, w, 1)
    if (height, width) != size[1:]:
        planes = tf.image.resize(planes, size[1:], method="bilinear")
    columns = tf.reshape(planes, [batch, depth, size[1] * size[2], 1])
    if depth != size[0]:
        columns = tf.image.resize(columns, (size[0], size[1] * size[2]), method="bilinear")
    return tf.reshape(columns, [batch, *size])


def spatial_activations(
    activations: tf.Tensor,
    path: str | None,
    rank: int | None = None,
    tokens: tokens_lib.TokenGrid | None = None,
    image: tuple[int, int] | None = None,
) -> tf.Tensor:
    """Checks that a captured layer output is `(B, h, w, K)` or `(B, d, h, w, K)` (of the
    inputs' `rank` when given) and casts it to float32.

    A `(B, N, D)` token sequence (a vision transformer's layer) is first laid out on its
    patch grid, given by `tokens` or inferred from `N` and the input size `image`
    (`tfxai.tokens.to_grid`).
    """
    if activations.shape.rank == 3 and rank == 5:
        raise ValueError(
            f"layer: {path!r} has a (batch, tokens, channels) output of shape "
            f"{tuple(activations.shape)}; token layers are laid out on 2-D image grids "
            f"only, so on volumes CAM methods need a (batch, depth, height, width, "
            f"channels) layer, e.g. the last Conv3D block."
        )
    if activations.shape.rank == 3:
        activations = tokens_lib.to_grid(activations, tokens, image, path)
    got = activations.shape.rank
    if got not in (4, 5) or (rank is not None and got != rank):
        axes = (
            "(batch, depth, height, width, channels)"
            if rank == 5
            else "(batch, height, width, channels)"
        )
        kind = "volume" if rank == 5 else "spatial"
        tokens_hint = "" if rank == 5 else ", or a (batch, tokens, channels) transformer layer"
        raise ValueError(
            f"layer: {path!r} has an output of shape {tuple(activations.shape)}; CAM methods "
            f"need a {kind} {axes} layer, e.g. the last conv block{tokens_hint}."
        )
    return tf.cast(activations, tf.float32)


def spatial_axes(tensor: tf.Tensor) -> list[int]:
    """The spatial axes of `(B, h, w, K)` (`[1, 2]`) or `(B, d, h, w, K)` (`[1, 2, 3]`)."""
    return list(range(1, tensor.shape.rank - 1))


class CAM(explainer.Explainer):
    """Base class of the CAM explainers: a weighting function on the engine's tape pass.

    Subclasses set `uses_gradients` and implement `weights`; gradient-free methods that
    need extra forward passes override `explain_batch`.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        layer: The layer to explain: name, nested path, index, layer object, or `None`
            (default) for the last layer with a 4-D output (5-D for a volume model; for a
            vision transformer without one: the last token layer whose patch tokens the
            output reads).
        tokens: `None` (default: inferred) or `(height, width, skip)`: the patch grid of a
            `(batch, tokens, channels)` layer, after `skip` leading (class, register)
            tokens (`tfxai.tokens`).
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Raises:
        ValueError: On a bad `tokens`, or a chosen token layer whose patch tokens the
            output does not read (the last block of a class-token ViT) when the method
            needs them to (`reads_layer`).
    """

    captures_layer = True
    uses_gradients = True
    # The map needs the output to depend on the layer (gradients, ablation); Eigen-CAM and
    # Score-CAM read only the activations, so any token layer will do for them.
    reads_layer = True

    def __init__(
        self,
        model: Any,
        layer: Any = None,
        *,
        tokens: Any = None,
        output: Any = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        self.tokens = tokens_lib.check_tokens(tokens)
        super().__init__(model, layer, output=output, logits=logits, input=input)
        shape = static_shape(self.engine.layer)
        if layer is not None and self.reads_layer and shape is not None and len(shape) == 3:
            token_influence.check_influence(
                model,
                self.engine.layer,
                str(self.engine.layer_path),
                leaf_layers(model),
                self.tokens,
            )

    def spatial(self, tensor: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        """The layer's `(B, h, w, K)` float32 activations (or gradients), tokens on their grid."""
        image = tuple(inputs.shape[1:3])
        path = self.engine.layer_path
        if self.tokens is not None and tensor.shape.rank != 3:
            raise ValueError(
                f"tokens: given as {self.tokens}, but layer {path!r} has a spatial output of "
                f"shape {tuple(tensor.shape)}, not a (batch, tokens, channels) sequence; "
                f"leave tokens=None for it, or choose a token layer."
            )
        return spatial_activations(tensor, path, inputs.shape.rank, self.tokens, image)

    @property
    def layer(self) -> Any:
        """The explained layer (a `keras.layers.Layer`)."""
        return self.engine.layer

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        """Returns `(B, 1, 1, K)` or `(B, h, w, K)` weights for float32 activations.

        For volumes, `(B, 1, 1, 1, K)` or `(B, d, h, w, K)`."""
        raise NotImplementedError

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int = 0
    ) -> np.ndarray:
        """Raw `(b, H, W)` maps for one checked batch (`batch_size` bounds extra passes).

        For volumes, `(b, D, H, W)`."""
        run = self.compiled("cam", self._cam_graph(target), batch, params, target)
        return run(tf.constant(batch), as_tensors(params)).numpy()

    def layer_pass(
        self, inputs: tf.Tensor, target: Target, params: Any
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """Tape pass returning float32 `(activations, gradients)`; gradients may be None."""
        tape, scores, activations = self.engine.scores_and_outputs(inputs, target, params)
        activations_32 = self.spatial(activations, inputs)
        if not self.uses_gradients:
            return activations_32, None
        gradients = tape.gradient(scores, activations)
        if gradients is None:
            raise ValueError(
                f"layer: the target does not depend on layer "
                f"{self.engine.layer_path!r}; choose a layer that feeds the "
                f"chosen output."
            )
        return activations_32, self.spatial(gradients, inputs)

    def _cam_graph(self, target):
        def cam_graph(inputs, params):
            activations, gradients = self.layer_pass(inputs, target, params)
            weights = self.weights(activations, gradients)
            return weighted_map(weights, activations, inputs.shape[1:-1])

        return cam_graph


def spatial_sum(tensor: tf.Tensor) -> tf.Tensor:
    """Sum over the spatial axes of `(B, h, w, K)` or `(B, d, h, w, K)`, keeping dims."""
    return tf.reduce_sum(tensor, axis=spatial_axes(tensor), keepdims=True)


def clear_cache() -> None:
    """Drops the cached explainers of the function twins (`tfxai.clear_cache` drops all)."""
    cache_lib.clear(cache_lib.EXPLAINER)
