"""Shared machinery of the Grad-CAM family.

A CAM method is a weighting function `(activations, gradients) -> weights`, with weights of
shape `(B, 1, 1, K)` (one per channel) or `(B, h, w, K)` (one per position). This module
does the rest of a CAM on top of `tfxai.explainer.Explainer` (batching, targets,
normalization, the function twin): the compiled tape pass and
`relu(sum_k weights * activations)` resized to the input size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import explainer
from tfxai import tokens as tokens_lib
from tfxai.explainer import (  # noqa: F401 (the names CAM modules and tests use from here)
    as_tensors,
    normalize_maps,
)
from tfxai.layer_lookup import leaf_layers, static_shape
from tfxai.targets import Target

# The function twins' explainers, as kept in the package's one cache (read by tests).
_cache = cache_lib.View(cache_lib.EXPLAINER)


def weighted_map(weights: tf.Tensor, activations: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """`relu(sum_k weights * activations)` resized to `size`, shape `(B, H, W)`."""
    cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
    return resize_maps(cam, size)


def resize_maps(maps: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """Bilinearly resizes `(B, h, w)` maps to `size` (half-pixel centers)."""
    if tuple(maps.shape[1:3]) == tuple(size):
        return maps
    return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]


def spatial_activations(
    activations: tf.Tensor,
    path: str | None,
    tokens: tokens_lib.TokenGrid | None = None,
    image: tuple[int, int] | None = None,
) -> tf.Tensor:
    """Checks that a captured layer output is `(B, h, w, K)` and casts it to float32.

    A `(B, N, D)` token sequence (a vision transformer's layer) is first laid out on its
    patch grid, given by `tokens` or inferred from `N` and the input size `image`
    (`tfxai.tokens.to_grid`).
    """
    if activations.shape.rank == 3:
        activations = tokens_lib.to_grid(activations, tokens, image, path)
    if activations.shape.rank != 4:
        raise ValueError(
            f"layer: {path!r} has an output of shape {tuple(activations.shape)}; CAM methods "
            f"need a spatial (batch, height, width, channels) layer, e.g. the last conv block, "
            f"or a (batch, tokens, channels) transformer layer."
        )
    return tf.cast(activations, tf.float32)


class CAM(explainer.Explainer):
    """Base class of the CAM explainers: a weighting function on the engine's tape pass.

    Subclasses set `uses_gradients` and implement `weights`; gradient-free methods that
    need extra forward passes override `explain_batch`.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        layer: The layer to explain: name, nested path, index, layer object, or `None`
            (default) for the last layer with a 4-D output (for a vision transformer
            without one: the last token layer whose patch tokens the output reads).
        tokens: `None` (default: inferred) or `(height, width, skip)`: the patch grid of a
            `(batch, tokens, channels)` layer, after `skip` leading (class, register)
            tokens (`tfxai.tokens`).
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.

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
    ) -> None:
        self.tokens = tokens_lib.check_tokens(tokens)
        super().__init__(model, layer, output=output, logits=logits)
        shape = static_shape(self.engine.layer)
        if layer is not None and self.reads_layer and shape is not None and len(shape) == 3:
            tokens_lib.check_influence(
                model,
                self.engine.layer,
                str(self.engine.layer_path),
                leaf_layers(model),
                self.tokens,
            )

    def spatial(self, tensor: tf.Tensor, inputs: tf.Tensor) -> tf.Tensor:
        """The layer's `(B, h, w, K)` float32 activations (or gradients), tokens on their grid."""
        image = tuple(inputs.shape[1:3])
        return spatial_activations(tensor, self.engine.layer_path, self.tokens, image)

    @property
    def layer(self) -> Any:
        """The explained layer (a `keras.layers.Layer`)."""
        return self.engine.layer

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        """Returns `(B, 1, 1, K)` or `(B, h, w, K)` weights for float32 activations."""
        raise NotImplementedError

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int = 0
    ) -> np.ndarray:
        """Raw `(b, H, W)` maps for one checked batch (`batch_size` bounds extra passes)."""
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
            return weighted_map(weights, activations, inputs.shape[1:3])

        return cam_graph


TOKENS_OPTION = ", `tokens` (`(height, width, skip)` of a token layer; default inferred)"


def function_form(
    cls: type[explainer.Explainer],
    name: str,
    title: str,
    reference: str,
    extra: str = "",
    example: str = "",
    returns: str = "",
) -> Callable[..., Any]:
    """`tfxai.explainer.function_form` for a CAM: its docstring also lists `tokens`."""
    return explainer.function_form(
        cls, name, title, reference, extra + TOKENS_OPTION, example, returns
    )


def spatial_sum(tensor: tf.Tensor) -> tf.Tensor:
    """Sum over the spatial axes of `(B, h, w, K)`, keeping dims."""
    return tf.reduce_sum(tensor, axis=[1, 2], keepdims=True)


def clear_cache() -> None:
    """Drops the cached explainers of the function twins (`tfxai.clear_cache` drops all)."""
    cache_lib.clear(cache_lib.EXPLAINER)
