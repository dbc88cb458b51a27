"""Ablation-CAM: channels weighted by the score drop when each is zeroed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import tokens as tokens_lib
from tfxai.cam import base, channel_scoring
from tfxai.targets import Target


class AblationCAM(channel_scoring.ChannelScoringCAM):
    """Ablation-CAM: `w_k = y_c - y_c(A_k = 0)`, map `relu(sum_k w_k A_k)`.

    Each channel of the layer is zeroed inside the model (its output is replaced during
    the pass, the model itself is untouched) and the drop of the target score is its
    weight. The paper divides by `y_c`; that per-image factor vanishes in the [0, 1]
    normalization and would flip the map for a negative logit, so it is left out.
    `top_n` keeps the channels with the largest mean activation, per image.

    Speed: the ablated copies of one image differ only from the layer on, so each image
    is fed once and the layer output is broadcast to its ablated copies; everything up
    to the layer is computed once per image instead of once per channel. Models where
    that broadcast does not go through (a skip connection concatenated past the layer)
    fall back, on the first call, to feeding one full copy of the image per channel.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output; for a
            vision transformer, the last token layer whose patches are read).
        top_n: Integer or `None` (default, every channel). Channels ablated per image.
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a token layer (`tfxai.cam.CAM`); a channel is zeroed at the patch tokens only.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> cams = AblationCAM(model, top_n=64)(images)

    Reference:
        Desai & Ramaswamy, "Ablation-CAM: Visual Explanations for Deep Convolutional
        Network via Gradient-free Localization", WACV 2020.
        https://openaccess.thecvf.com/content_WACV_2020/papers/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.pdf
    """

    def __init__(
        self,
        model: keras.Model,
        layer: Any = None,
        *,
        top_n: int | None = None,
        tokens: Any = None,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(
            model, layer, top_n=top_n, tokens=tokens, output=output, logits=logits, input=input
        )
        self.broadcast: bool | None = None  # unknown until the first call tries it

    def rank_channels(self, activations: np.ndarray) -> np.ndarray:
        return activations.mean(axis=tuple(range(1, activations.ndim - 1)))

    def pair_input(
        self, activations: np.ndarray, images: np.ndarray, channels: np.ndarray
    ) -> np.ndarray:
        return channels.astype(np.int32)

    def pair_graph(self, target: Target) -> Callable[[tf.Tensor, Any], tf.Tensor]:
        def ablated_scores(images, args):
            channels, params = args

            def ablate(activations):
                keep = 1.0 - tf.one_hot(channels, activations.shape[-1], dtype=activations.dtype)
                if activations.shape.rank == 3:  # tokens: the patches only, not the class token
                    grid = tokens_lib.grid_of(
                        tuple(activations.shape),
                        self.tokens,
                        tuple(images.shape[1:3]),
                        self.engine.layer_path,
                    )
                    patch = tf.range(activations.shape[1]) >= grid.skip
                    dropped = tf.cast(patch, activations.dtype)[None, :, None]
                    return activations * (1.0 - dropped * (1.0 - keep[:, None, :]))
                for _ in range(activations.shape.rank - 2):  # one per spatial axis
                    keep = keep[:, None]
                return activations * keep

            _, scores, _ = self.engine.scores_and_outputs(images, target, params, replace=ablate)
            return scores

        return ablated_scores

    def _score_pairs(self, batch, activations, channels, target, params, batch_size):
        if self.broadcast is not False:
            try:
                scores = self._score_broadcast(batch, channels, target, params, batch_size)
            except (ValueError, tf.errors.InvalidArgumentError):
                if self.broadcast:
                    raise
                self.broadcast = False
            else:
                self.broadcast = True
                return scores
        return super()._score_pairs(batch, activations, channels, target, params, batch_size)

    def _score_broadcast(self, batch, channels, target, params, batch_size):
        """Scores each image's ablations from one pass of the image itself."""
        graph = self.pair_graph(target)
        scores = []
        for index, image_channels in enumerate(channels):
            image = batch[index : index + 1]
            for start in range(0, len(image_channels), batch_size):
                chunk = image_channels[start : start + batch_size].astype(np.int32)
                args = (chunk, repeat_params(params, index, len(chunk)))
                run = self.engine.compile(
                    (type(self).__name__, "pairs", target.key), graph, image, args
                )
                chunk_scores = run(tf.constant(image), base.as_tensors(args)).numpy()
                if chunk_scores.shape != chunk.shape:
                    raise ValueError("the ablated copies did not broadcast")
                scores.append(chunk_scores)
        return np.concatenate(scores)

    def channel_weights(self, scores: np.ndarray, base_scores: np.ndarray) -> np.ndarray:
        return base_scores - scores


ablation_cam = base.function_form(
    AblationCAM,
    "ablation_cam",
    "Ablation-CAM",
    "Desai & Ramaswamy, WACV 2020 (see `AblationCAM`)",
    extra=", `top_n` (Integer or None)",
    example=", top_n=64",
)


def repeat_params(params: Any, index: int, count: int) -> Any:
    """Image `index`'s target parameters repeated `count` times (one per ablated copy)."""
    return tf.nest.map_structure(lambda a: np.repeat(a[index : index + 1], count, axis=0), params)
