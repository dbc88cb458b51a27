"""Class probabilities of a target, in compiled batched forward passes, for the metrics.

The metrics score "the probability of the target class", as `tfxai.heads` defines it per
head: the softmax of the logits for classes, each label's sigmoid for a multi-label sigmoid
head, the sigmoid of a single binary logit (class 1 positive, class 0 negative), and for
dense outputs the mean of those over the target's pixels. The logits are found by the
engine (`tfxai.engine.to_logits`), so a model ending in a softmax and the same model ending
in logits give the same probabilities.

The target is fixed before any image is perturbed: `None` (and `tfxai.targets.predicted()`)
become the class predicted on the unperturbed images, so every perturbed copy of an image
is scored for the same class (as in RISE and Grad-CAM++'s protocol), not re-predicted.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import engine as engine_lib
from tfxai import heads
from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib
from tfxai.targets import Target


def _argmax_class(outputs, params):
    if outputs.shape.rank > 2:  # dense output: the class with the largest mean logit
        outputs = tf.reduce_mean(outputs, axis=list(range(1, outputs.shape.rank - 1)))
    return tf.cast(tf.argmax(outputs, axis=-1), tf.float32)


_PREDICTED_CLASS = targets_lib.Target(
    _argmax_class, key=("metrics", "argmax"), name="predicted class"
)


class ProbabilityScorer:
    """Scores images with compiled, batched forward passes of a model (never changed).

    Args:
        model: A Keras model.
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Take the softmax of the logits behind a
            softmax/sigmoid output rather than of the output itself.

    Example:
        >>> scorer = ProbabilityScorer(model)
        >>> target, _ = scorer.fixed_target(images, None, batch_size=32)
        >>> probs = scorer.probabilities(images, target, target.bind(len(images)), 32)
    """

    def __init__(
        self, model: keras.Model, *, output: int | str | None = None, logits: bool = True
    ) -> None:
        inputs_lib.check_model(model)
        logits = inputs_lib.check_bool(logits, "logits")
        paths = engine_lib.layer_paths(model)
        # No layer is captured (capture=False); any layer of the model satisfies the engine.
        anchor = paths[-1][1] if paths else None
        self.engine = engine_lib.Engine(model, anchor, output=output, logits=logits)

    @property
    def model(self) -> keras.Model:
        return self.engine.model

    def fixed_target(self, images: np.ndarray, target: Any, batch_size: int) -> tuple[Target, Any]:
        """The target to score every perturbed image with, and what to pass an explainer.

        Args:
            images: Checked float32 images `(B, H, W, C)`.
            target: A target shorthand (see `tfxai.targets.to_target`).
            batch_size: Integer, images per forward pass.

        Returns:
            `(Target, explainer_target)`: for `None` or `predicted()`, `class_score` of the
            classes predicted on `images` and those classes as a list of ints; otherwise
            the converted target and `target` unchanged.
        """
        if target is None or (
            isinstance(target, targets_lib.Target) and target.key == ("predicted",)
        ):
            classes = self.predicted_classes(images, batch_size)
            return targets_lib.class_score(classes), [int(c) for c in classes]
        return targets_lib.to_target(target), target

    def predicted_classes(self, images: np.ndarray, batch_size: int) -> np.ndarray:
        """int64 `(B,)`: the class with the largest logit for each image."""
        scores = self.scores(images, _PREDICTED_CLASS, (), batch_size)
        return np.rint(scores).astype(np.int64)

    def probabilities(
        self, images: np.ndarray, target: Target, params: Any, batch_size: int
    ) -> np.ndarray:
        """float32 `(B,)`: `target` scored on the softmax of the logits of `images`."""
        return self.scores(images, self.probability_target(target), params, batch_size)

    def probability_target(self, target: Target) -> Target:
        """`target` scored on the probabilities of this model's head (`tfxai.heads`)."""
        return heads.probability_target(target, self.engine)

    def scores(
        self, images: np.ndarray, target: Target, params: Any, batch_size: int
    ) -> np.ndarray:
        """float32 `(B,)`: `target` scored on the logits, in passes of `batch_size` images."""
        out = [
            self.score_batch(
                images[start : start + batch_size],
                target,
                inputs_lib.slice_params(params, start, start + batch_size),
            )
            for start in range(0, len(images), batch_size)
        ]
        return np.concatenate(out).astype(np.float32)

    def score_batch(self, batch: np.ndarray, target: Target, params: Any) -> np.ndarray:
        """float32 `(b,)`: one compiled forward pass (traced once per target structure)."""

        def graph(inputs, bound):
            _, scores, _ = self.engine.scores_and_outputs(inputs, target, bound, capture=False)
            return scores

        self.engine.check_target(target, len(batch))
        run = self.engine.compile(("metrics", target.key), graph, batch, params)
        target.check(self.engine.output_shape, len(batch))
        tensors = tf.nest.map_structure(tf.constant, params)
        return run(tf.constant(batch), tensors).numpy()


def scorer_for(
    model: keras.Model, *, output: int | str | None = None, logits: bool = True
) -> ProbabilityScorer:
    """A cached `ProbabilityScorer` (repeated metric calls reuse its compiled graphs)."""

    def build():
        return ProbabilityScorer(model, output=output, logits=logits)

    scorer, _ = cache_lib.fetch(cache_lib.SCORER, model, (output, logits), build)
    return scorer


def clear_cache() -> None:
    """Drops the cached scorers (`tfxai.clear_cache` drops every cache)."""
    cache_lib.clear(cache_lib.SCORER)
