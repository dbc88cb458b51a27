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

import dataclasses
import warnings

import keras
import numpy as np

from tfxai import engine as engine_lib
from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai.metrics import _checks, scoring
from tfxai.metrics import similarity as similarity_lib

_INITIALIZER_NAMES = {
    "kernel": ("kernel_initializer", "depthwise_initializer"),
    "depthwise_kernel": ("depthwise_initializer",),
    "pointwise_kernel": ("pointwise_initializer",),
    "recurrent_kernel": ("recurrent_initializer",),
    "embeddings": ("embeddings_initializer",),
}


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

    layers: tuple
    similarities: np.ndarray
    similarity: str = "spearman"
    maps: np.ndarray = dataclasses.field(default=None, repr=False)

    @property
    def mean(self):
        """float64 `(steps,)`: the similarity averaged over the images at each step."""
        return self.similarities.mean(axis=1)

    def to_dict(self):
        """A JSON-friendly dict: `similarity`, `layers`, `mean`, `per_image`."""
        return {
            "similarity": self.similarity,
            "layers": list(self.layers),
            "mean": self.mean.tolist(),
            "per_image": self.similarities.tolist(),
        }

    def to_markdown(self):
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

    def __repr__(self):
        means = ", ".join(f"{value:.3f}" for value in self.mean)
        return (
            f"SanityCheckResult(similarity={self.similarity!r}, steps={len(self.layers)}, "
            f"images={self.similarities.shape[1]}, mean=[{means}])"
        )


def copy_model(model, images):
    """A clone of `model` with the same weights; `model` is only read.

    Raises:
        TypeError: If `model` is not a Keras model or cannot be cloned.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}.")
    try:
        copy = keras.models.clone_model(model)
        if not copy.built:
            copy(images[:1], training=False)
        copy.set_weights(model.get_weights())
    except Exception as err:
        raise TypeError(
            f"model: sanity_check randomizes a copy made by keras.models.clone_model, which "
            f"failed for {model.name!r} ({type(model).__name__}): {type(err).__name__}: "
            f"{err}. Sequential and Functional models work; a subclassed model needs "
            f"get_config() and from_config()."
        ) from err
    copy.trainable = True  # on the copy only: every parameter shows in trainable_weights
    for _, layer in engine_lib.layer_paths(copy):
        layer.trainable = True
    return copy


def parameters(layer):
    """The layer's own trainable-by-construction variables (none for containers)."""
    if isinstance(layer, keras.Model):
        return []
    return list(layer.trainable_weights)


def randomization_order(model, layers=None):
    """`(path, layer)` pairs to randomize, from the top (output) of `model` down.

    Args:
        model: The (copied) Keras model, every layer trainable.
        layers: `None` (every leaf layer with weights) or a list of layer references
            (names, nested paths, indices or layer objects of a model with the same names).

    Raises:
        ValueError: If `layers` is empty, names an unknown layer or a layer without weights.
    """
    paths = engine_lib.layer_paths(model)
    weighted = [(path, layer) for path, layer in paths if parameters(layer)]
    if layers is None:
        if not weighted:
            raise ValueError(f"model: {model.name!r} has no layer with weights to randomize.")
        return weighted[::-1]
    single = isinstance(layers, (str, int, np.integer, keras.layers.Layer))
    try:
        refs = [layers] if single else list(layers)
    except TypeError:
        raise TypeError(
            f"layers: expected None, a layer reference or a list of them, got "
            f"{type(layers).__name__}."
        ) from None
    if not refs:
        raise ValueError("layers: expected None or at least one layer name, got an empty list.")
    chosen = set()
    for ref in refs:
        if isinstance(ref, keras.layers.Layer) and not any(ref is known for _, known in paths):
            ref = ref.name  # a layer of the user's model: find its namesake in the copy
        try:
            layer = engine_lib.resolve_layer(model, ref)
        except (TypeError, ValueError) as err:
            message = str(err)
            message = message.removeprefix("layer: ")
            raise type(err)(f"layers: {message}") from None
        if not parameters(layer):
            names = ", ".join(path for path, _ in weighted[::-1][:8])
            raise ValueError(
                f"layers: layer {ref!r} has no weights to randomize (or is a "
                f"nested model: name its layers). Layers with weights, from the "
                f"top: {names}{', ...' if len(weighted) > 8 else ''}."
            )
        chosen.add(id(layer))
    return [(path, layer) for path, layer in weighted[::-1] if id(layer) in chosen]


def _initializer(layer, variable, seed):
    short = variable.name.rsplit("/", 1)[-1]
    names = _INITIALIZER_NAMES.get(short, ()) + (f"{short}_initializer",)
    for name in names:
        initializer = getattr(layer, name, None)
        if isinstance(initializer, keras.initializers.Initializer):
            config = initializer.get_config()
            if "seed" in config:
                config["seed"] = seed
                initializer = type(initializer).from_config(config)
            return initializer
    values = np.asarray(variable.numpy(), dtype=np.float64)
    std = float(values.std()) if values.size > 1 and values.std() > 0 else 0.05
    return keras.initializers.RandomNormal(stddev=std, seed=seed)


def reinitialize(layer, seed):
    """Re-draws every parameter of `layer` (a layer of a copy) from its initializer."""
    for index, variable in enumerate(parameters(layer)):
        variable_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0] >> 1)
        initializer = _initializer(layer, variable, variable_seed)
        value = initializer(tuple(variable.shape), dtype=variable.dtype)
        variable.assign(value)


def sanity_check(
    model,
    inputs,
    explainer,
    target=None,
    *,
    layers=None,
    seed=0,
    similarity="spearman",
    keep_maps=False,
    output=None,
    batch_size=32,
):
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
    kept = [original] if keep_maps else None
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


def check_explainer(explainer):
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


def _warn_if_copy_differs(model, copy_scorer, images, target, output, batch_size):
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
