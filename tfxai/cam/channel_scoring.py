"""Gradient-free CAMs that score each channel with extra, batched forward passes.

Score-CAM masks the input with each channel's upsampled map; Ablation-CAM zeroes each
channel inside the model. Both follow the same plan, done here:

1. one pass captures the layer activations `A` `(b, h, w, K)` (`(b, d, h, w, K)` for
   volumes) and the target scores;
2. each image keeps all channels or its `top_n` (ranked by `rank_channels`);
3. the (image, channel) pairs are scored in chunks of `batch_size` forward passes;
4. the map is `relu(sum_k w_k A_k)` over the kept channels, `w = channel_weights(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.cam import base
from tfxai.targets import Target


class ChannelScoringCAM(base.CAM):
    """Base of Score-CAM and Ablation-CAM.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output; for a
            vision transformer, the last token layer whose patches are read).
        top_n: Integer or `None` (default): keep only the `top_n` highest-ranked channels
            of each image (faster); `None` scores every channel.
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a token layer (`tfxai.cam.CAM`).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
    """

    uses_gradients = False

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
        super().__init__(model, layer, tokens=tokens, output=output, logits=logits, input=input)
        if top_n is not None and (
            isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 1
        ):
            raise ValueError(f"top_n: expected None or a positive integer, got {top_n!r}.")
        self.top_n = top_n

    def rank_channels(self, activations: np.ndarray) -> np.ndarray:
        """`(b, K)` numpy importance used to pick the `top_n` channels of each image."""
        raise NotImplementedError

    def pair_input(
        self, activations: np.ndarray, images: np.ndarray, channels: np.ndarray
    ) -> np.ndarray:
        """Numpy input of `pair_graph` for (image, channel) pairs, leading axis = pairs."""
        raise NotImplementedError

    def pair_graph(self, target: Target) -> Callable[[tf.Tensor, Any], tf.Tensor]:
        """Graph `(images, (pair_input, params)) -> (m,)` scores of the altered passes."""
        raise NotImplementedError

    def channel_weights(self, scores: np.ndarray, base_scores: np.ndarray) -> np.ndarray:
        """`(b, n)` channel weights from altered scores `(b, n)` and base scores `(b, 1)`."""
        raise NotImplementedError

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int = 0
    ) -> np.ndarray:
        capture = self.compiled("capture", self._capture_graph(target), batch, params, target)
        activations, base_scores = (
            t.numpy() for t in capture(tf.constant(batch), base.as_tensors(params))
        )
        channels = self._select(activations)
        scores = self._score_pairs(batch, activations, channels, target, params, batch_size)
        weights = self.channel_weights(scores.reshape(channels.shape), base_scores[:, None])
        spatial = (1,) * (activations.ndim - 2)
        kept = np.take_along_axis(activations, channels.reshape((len(channels), *spatial, -1)), -1)
        cam = np.maximum(np.einsum("b...n,bn->b...", kept, weights), 0.0)
        return base.resize_maps(tf.constant(cam, tf.float32), batch.shape[1:-1]).numpy()

    def _capture_graph(self, target):
        def capture_graph(inputs, params):
            _, scores, activations = self.engine.scores_and_outputs(inputs, target, params)
            return self.spatial(activations, inputs), scores

        return capture_graph

    def _select(self, activations):
        count = activations.shape[-1]
        if self.top_n is None:
            return np.tile(np.arange(count), (len(activations), 1))
        if self.top_n > count:
            raise ValueError(
                f"top_n: layer {self.engine.layer_path!r} has {count} channels, "
                f"got top_n={self.top_n}."
            )
        ranks = self.rank_channels(activations)
        return np.argsort(-ranks, axis=-1, kind="stable")[:, : self.top_n]

    def _score_pairs(self, batch, activations, channels, target, params, batch_size):
        images = np.repeat(np.arange(len(batch)), channels.shape[1])
        flat_channels = channels.reshape(-1)
        graph = self.pair_graph(target)
        scores = []
        for start in range(0, len(images), batch_size):
            ids = images[start : start + batch_size]
            pair_args = (
                self.pair_input(activations, ids, flat_channels[start : start + batch_size]),
                tf.nest.map_structure(lambda a, ids=ids: a[ids], params),
            )
            run = self.engine.compile(
                (type(self).__name__, "pairs", target.key), graph, batch[ids], pair_args
            )
            scores.append(run(tf.constant(batch[ids]), base.as_tensors(pair_args)).numpy())
        return np.concatenate(scores)
