"""Model-parameter randomization sanity check (Adebayo et al. 2018), cascading.

An explanation that stays the same when the model's weights are replaced by random ones
does not explain the model. On a copy of the model (the user's model is only read),
layers are re-initialized from the top (logits) down, cumulatively; after each one the
explainer runs on the copy and its maps are compared with the maps of the intact copy.

Choices, fixed here:

- the copy is `keras.models.clone_model(model)` plus `set_weights(model.get_weights())`,
  so Sequential and Functional models (nested backbones included) work; a subclassed
  model needs `get_config`/`from_config`;
- randomized layers are the leaf layers with trainable-by-construction weights (kernels,
  biases, BatchNorm gamma/beta), frozen layers included. BatchNorm moving mean/variance
  are statistics of the data, not parameters: they are kept;
- each weight is re-drawn from its layer's own initializer (seeded from `seed`), so a
  zero-initialized bias goes back to zero; weights without a known initializer are drawn
  from a normal with the trained weights' standard deviation;
- the target is fixed before any randomization: `None` is the class predicted by the
  intact model, passed as class ids to every explainer call, never re-predicted by the
  randomized copy.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai._typing import Explainer, Images, LayerRef, TargetLike
from tfxai.metrics import _checks, scoring
from tfxai.metrics import similarity as similarity_lib
from tfxai.metrics.randomize import copy_model, parameters, randomization_order, reinitialize

if TYPE_CHECKING:
    from tfxai.targets import Target

__all__ = [
    "SanityCheckResult",
    "check_explainer",
    "copy_model",
    "parameters",
    "randomization_order",
    "reinitialize",
    "sanity_check",
]


@dataclasses.dataclass(frozen=True)
class SanityCheckResult:
    """Result of `sanity_check`.

    Attributes:
        layers: Tuple of strings, the layer paths in randomization order; step `i` has
            layers `0..i` randomized.
        similarities: float64 array `(steps, B)`, the similarity of each image's map after
            each step with its map from the intact model.
        similarity: String, the similarity measure (`"spearman"`, `"pearson"`, `"ssim"`).
        maps: float32 array `(steps + 1, B, H, W)` (index 0: intact model) when
            `keep_maps=True`, else `None`.
    """

    layers: tuple[str, ...]
    similarities: np.ndarray
    similarity: str = "spearman"
    maps: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @property
    def mean(self) -> np.ndarray:
        """float64 `(steps,)`: the similarity averaged over the images at each step."""
        return self.similarities.mean(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: `similarity`, `layers`, `mean`, `per_image`."""
        return {
            "similarity": self.similarity,
            "layers": list(self.layers),
            "mean": self.mean.tolist(),
            "per_image": self.similarities.tolist(),
        }

    def to_markdown(self) -> str:
        """A markdown table: one row per step with the randomized layer and statistics."""
        lines = [
            f"| step | randomized down to | mean {self.similarity} | min | max |",
            "| ---: | --- | ---: | ---: | ---: |",
        ]
        for step, (layer, row) in enumerate(zip(self.layers, self.similarities), start=1):
            lines.append(
                f"| {step} | {layer} | {row.mean():.3f} | {row.min():.3f} | {row.max():.3f} |"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        means = ", ".join(f"{value:.3f}" for value in self.mean)
        return (
            f"SanityCheckResult(similarity={self.similarity!r}, steps={len(self.layers)}, "
            f"images={self.similarities.shape[1]}, mean=[{means}])"
        )


def sanity_check(
    model: keras.Model,
    inputs: Images,
    explainer: Explainer,
    target: TargetLike = None,
    *,
    layers: LayerRef | Sequence[LayerRef] | None = None,
    seed: int = 0,
    similarity: str | similarity_lib.Similarity = "spearman",
    keep_maps: bool = False,
    output: int | str | None = None,
    batch_size: int = 32,
) -> SanityCheckResult:
    """Cascading model-parameter randomization test of an explainer.

    On a copy of `model`, layers are re-initialized from the top (logits) down,
    cumulatively; after each layer, `explainer(copy, inputs, target=target)` runs on the
    copy and each map is compared with the map of the intact copy. A similarity that stays
    high means the explanation does not depend on those weights (Adebayo et al. found
    Gradient and Grad-CAM maps change, Guided Backprop's barely do).

    Layers randomized: leaf layers with trainable-by-construction weights (kernels, biases,
    BatchNorm gamma/beta; frozen layers included), each weight re-drawn from its layer's
    own initializer. BatchNorm moving statistics are kept. The target is fixed before any
    randomization: `None` becomes the class ids predicted by the intact model, and every
    step explains those same classes (nothing is re-predicted on the randomized copy).
    The user's model is only read: its weights are bit-identical afterwards.

    Args:
        model: A Sequential or Functional Keras model (a subclassed one needs
            `get_config`/`from_config`); never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        explainer: Callable `explainer(model, inputs, target=target) -> (B, H, W)`, such as
            `tfxai.grad_cam`; use `functools.partial` for options (`layer=` ...). Not an
            explainer class or instance (`tfxai.GradCAM(model)` is bound to `model`).
        target: `None` (the class predicted by the intact model), int, list of ints,
            callable or `Target`; passed to the explainer at every step.
        layers: `None` (default: every layer with weights), a layer name/path/index or a
            list of them to randomize; either way they are randomized from the top down.
        seed: Integer, default 0. Seeds the re-initialization (same seed, same weights).
        similarity: `"spearman"` (default, rank correlation of the flattened maps),
            `"pearson"`, `"ssim"`, or a callable `(first, second) -> (B,)`.
        keep_maps: Boolean, default False. Keep every step's maps in the result.
        output: Integer or string, default `None`. The output of a multi-output model
            whose predicted class fixes `target=None`.
        batch_size: Integer, default 32. Images per forward pass when fixing the target.

    Returns:
        A `SanityCheckResult`: `.layers` (randomization order), `.similarities`
        `(steps, B)`, `.mean` `(steps,)`, `.to_markdown()`, `.to_dict()`.

    Raises:
        TypeError: If `explainer` is not callable, is an explainer class or instance, or
            the model cannot be cloned; if `keep_maps` is not a boolean.
        ValueError: On unknown `layers`, a bad `similarity`, or maps of the wrong shape
            (the message names the step).

    Example:
        >>> explainer = functools.partial(tfxai.grad_cam, layer="conv5_block3_out")
        >>> result = tfxai.metrics.sanity_check(model, images, explainer)
        >>> print(result.to_markdown())

    Reference:
        Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.
        https://arxiv.org/abs/1810.03292
    """
    check_explainer(explainer)
    keep_maps = inputs_lib.check_bool(keep_maps, "keep_maps")
    similarity_name, similarity_fn = similarity_lib.get(similarity)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}.")
    batch_size = _checks.positive_int(batch_size, "batch_size")
    images, target = _checks.image_batch(inputs, model, target)
    copy = copy_model(model, images)
    scorer = scoring.ProbabilityScorer(copy, output=output)
    fixed, explainer_target = scorer.fixed_target(images, target, batch_size)
    _warn_if_copy_differs(model, scorer, images, fixed, output, batch_size)
    order = randomization_order(copy, layers)

    original = _checks.explain(explainer, copy, images, explainer_target)
    kept = [original]  # stacked into the result only with keep_maps
    scores = np.empty((len(order), len(images)), dtype=np.float64)
    for step, (path, layer) in enumerate(order):
        reinitialize(layer, int(np.random.SeedSequence([int(seed), step]).generate_state(1)[0]))
        maps = _checks.explain(
            explainer,
            copy,
            images,
            explainer_target,
            name=f"explainer (after randomizing down to {path!r})",
        )
        scores[step] = np.asarray(similarity_fn(original, maps), dtype=np.float64)
        if keep_maps:
            kept.append(maps)
    return SanityCheckResult(
        tuple(path for path, _ in order),
        scores,
        similarity_name,
        np.stack(kept) if keep_maps else None,
    )


def check_explainer(explainer: Any) -> Explainer:
    """Checks the `explainer` of `sanity_check`: a callable `fn(model, inputs, target=...)`.

    Raises:
        TypeError: If `explainer` is not callable, is an explainer class (`tfxai.GradCAM`)
            or an explainer instance: an instance is bound to the user's model, while
            the check explains randomized copies of it.
    """
    if not callable(explainer):
        raise TypeError(
            f"explainer: expected a callable explainer(model, inputs, "
            f"target=target) -> (B, H, W), got {type(explainer).__name__}."
        )
    methods.refuse_class(explainer, "explainer")
    if methods.is_instance(explainer):
        name = type(explainer).__name__
        raise TypeError(
            f"explainer: got a {name} instance, which is bound to model "
            f"{explainer.model.name!r}, but sanity_check explains randomized "
            f"copies of the model; pass the function "
            f"tfxai.{methods.method_name(type(explainer))} (with "
            f"functools.partial for options)."
        )
    return explainer


def _warn_if_copy_differs(
    model: keras.Model,
    copy_scorer: scoring.ProbabilityScorer,
    images: np.ndarray,
    target: Target,
    output: int | str | None,
    batch_size: int,
) -> None:
    """Warns when the copy does not reproduce the model (e.g. state outside its weights)."""
    params = target.bind(len(images))
    mine = scoring.scorer_for(model, output=output).probabilities(
        images, target, params, batch_size
    )
    theirs = copy_scorer.probabilities(images, target, params, batch_size)
    if not np.allclose(mine, theirs, rtol=1e-3, atol=1e-5):
        warnings.warn(
            f"model: the copy of {model.name!r} made for sanity_check does not "
            f"reproduce its outputs (max difference "
            f"{np.max(np.abs(mine - theirs)):.3g}); results compare the copy's maps.",
            RuntimeWarning,
            stacklevel=3,
        )
