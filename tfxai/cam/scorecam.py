"""Score-CAM: channels weighted by the class probability of the input they mask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import heads
from tfxai.cam import base, channel_scoring
from tfxai.targets import Target


class ScoreCAM(channel_scoring.ChannelScoringCAM):
    """Score-CAM: `w_k = softmax(f(x * norm(up(A_k))))[c]`, map `relu(sum_k w_k A_k)`.

    Each channel map is upsampled to the input size, min-max normalized to [0, 1] and
    multiplies the input; the target is scored on the class probabilities of that masked
    input (the softmax of the logits, as in the paper and its reference code; a single
    binary logit's sigmoid, per-label sigmoids of a multi-label head: `tfxai.heads`).
    Masked inputs run in batches of `batch_size`; `top_n` keeps the channels whose maps
    vary most (largest standard deviation), per image.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output; for a
            vision transformer, the last token layer whose patches are read).
        top_n: Integer or `None` (default, every channel). Channels kept per image.
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a `(batch, tokens, channels)` layer (`tfxai.tokens`).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Take the softmax of the logits behind a
            softmax/sigmoid output rather than of the output itself.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> cams = ScoreCAM(model, layer="conv5_block3_out", top_n=64)(images)

    Reference:
        Wang et al., "Score-CAM: Score-Weighted Visual Explanations for Convolutional
        Neural Networks", CVPR Workshops 2020. https://arxiv.org/abs/1910.01279
    """

    reads_layer = False  # masks the input: any token layer, even the last one, will do

    def rank_channels(self, activations: np.ndarray) -> np.ndarray:
        return activations.std(axis=tuple(range(1, activations.ndim - 1)))

    def pair_input(
        self, activations: np.ndarray, images: np.ndarray, channels: np.ndarray
    ) -> np.ndarray:
        return np.ascontiguousarray(activations[images, ..., channels])

    def pair_graph(self, target: Target) -> Callable[[tf.Tensor, Any], tf.Tensor]:
        probability = heads.probability_target(target, self.engine)

        def masked_scores(images, args):
            maps, params = args
            axes = list(range(1, maps.shape.rank))
            low = tf.reduce_min(maps, axis=axes, keepdims=True)
            span = tf.reduce_max(maps, axis=axes, keepdims=True) - low
            masks = base.resize_maps(tf.math.divide_no_nan(maps - low, span), images.shape[1:-1])
            _, scores, _ = self.engine.scores_and_outputs(
                images * masks[..., None], probability, params, capture=False
            )
            return scores

        return masked_scores

    def channel_weights(self, scores: np.ndarray, base_scores: np.ndarray) -> np.ndarray:
        return scores


score_cam = base.function_form(
    ScoreCAM,
    "score_cam",
    "Score-CAM",
    "https://arxiv.org/abs/1910.01279",
    extra=", `top_n` (Integer or None)",
    example=", top_n=64",
)
