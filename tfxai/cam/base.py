"""Shared machinery of the Grad-CAM family.

A CAM method is a weighting function `(activations, gradients) -> weights`, with weights of
shape `(B, 1, 1, K)` (one per channel) or `(B, h, w, K)` (one per position). This module
does everything else: the compiled tape pass, `relu(sum_k weights * activations)`, the
resize to the input size and the per-image normalization to [0, 1].
"""

import collections
import hashlib
import inspect

import numpy as np
import tensorflow as tf

from tfxai import batches as batches_lib
from tfxai import engine as engine_lib
from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib

_CACHE_SIZE = 8
_cache = collections.OrderedDict()


def normalize_maps(maps):
    """Scales each map of a `(B, H, W)` batch to [0, 1]; a constant map becomes all zero."""
    maps = np.asarray(maps, dtype=np.float32)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (maps - low) / safe, 0.0).astype(np.float32)


def finite_maps(maps, model):
    """Returns `maps`, or raises when the model's scores or gradients were not finite.

    Raises:
        ValueError: If `maps` hold NaN or Inf (a NaN/Inf model output or gradient), which
            normalization would otherwise turn into silent all-zero maps.
    """
    if not np.all(np.isfinite(maps)):
        bad = int(np.sum(~np.all(np.isfinite(maps), axis=tuple(range(1, maps.ndim)))))
        raise ValueError(
            f"model: the scores or gradients of model {model.name!r} are not "
            f"finite (NaN or Inf) for {bad} of {len(maps)} images; check the "
            f"model's outputs on these inputs (model(inputs))."
        )
    return maps


def weighted_map(weights, activations, size):
    """`relu(sum_k weights * activations)` resized to `size`, shape `(B, H, W)`."""
    cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
    return resize_maps(cam, size)


def resize_maps(maps, size):
    """Bilinearly resizes `(B, h, w)` maps to `size` (half-pixel centers)."""
    if tuple(maps.shape[1:3]) == tuple(size):
        return maps
    return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]


def spatial_activations(activations, path):
    """Checks that a captured layer output is `(B, h, w, K)` and casts it to float32."""
    if activations.shape.rank != 4:
        raise ValueError(
            f"layer: {path!r} has an output of shape {tuple(activations.shape)}; CAM methods "
            f"need a spatial (batch, height, width, channels) layer, e.g. the last conv block."
        )
    return tf.cast(activations, tf.float32)


class CAM:
    """Base class of the CAM explainers: holds the engine and the compiled graphs.

    Subclasses set `uses_gradients` and implement `weights`; gradient-free methods that
    need extra forward passes override `explain_batch`.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        layer: The layer to explain: name, nested path, index, layer object, or `None`
            (default) for the last layer with a 4-D output.
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.
    """

    uses_gradients = True

    def __init__(self, model, layer=None, *, output=None, logits=True):
        inputs_lib.check_model(model)
        self.engine = engine_lib.Engine(
            model, layer, output=output, logits=inputs_lib.check_bool(logits, "logits")
        )

    @property
    def model(self):
        return self.engine.model

    @property
    def layer(self):
        return self.engine.layer

    def __repr__(self):
        return f"{type(self).__name__}(model={self.model.name!r}, layer={self.engine.layer_path!r})"

    def weights(self, activations, gradients):
        """Returns `(B, 1, 1, K)` or `(B, h, w, K)` weights for float32 activations."""
        raise NotImplementedError

    def __call__(self, inputs, target=None, *, batch_size=32, normalize=True):
        """Explains `inputs` for `target`.

        Args:
            inputs: Images `(B, H, W, C)` as numpy, `tf.Tensor`, or a `tf.data.Dataset` of
                such batches (elements `x` or `(x, y)`).
            target: `None` (predicted class), int, list of ints (one per sample; with a
                dataset, one per image of the whole dataset), `"labels"` (each dataset
                element's `y`), callable on the output logits, or a `tfxai.targets.Target`.
            batch_size: Integer, default 32. Images per compiled pass.
            normalize: Boolean, default True. Scale each map to [0, 1].

        Returns:
            float32 numpy array `(B, H, W)`.
        """
        inputs_lib.check_not_model(inputs)
        normalize = inputs_lib.check_bool(normalize, "normalize")
        target = targets_lib.to_target(target)
        maps = [
            self.explain_batch(batch, batch_target, params, batch_size)
            for batch, batch_target, params in batches_lib.target_batches(
                inputs, self.model, target, batch_size
            )
        ]
        cams = finite_maps(np.concatenate(maps, axis=0).astype(np.float32), self.model)
        return normalize_maps(cams) if normalize else cams

    def explain_batch(self, batch, target, params, batch_size):
        """Raw `(b, H, W)` maps for one checked batch (`batch_size` bounds extra passes)."""
        run = self.compiled("cam", self._cam_graph(target), batch, params, target)
        return run(tf.constant(batch), as_tensors(params)).numpy()

    def compiled(self, name, fn, batch, params, target):
        """The engine's concrete function, with the target checked against the output."""
        self.engine.check_target(target, len(batch))
        run = self.engine.compile((type(self).__name__, name, target.key), fn, batch, params)
        target.check(self.engine.output_shape, len(batch))
        return run

    def layer_pass(self, inputs, target, params):
        """Tape pass returning float32 `(activations, gradients)`; gradients may be None."""
        tape, scores, activations = self.engine.scores_and_outputs(inputs, target, params)
        activations_32 = spatial_activations(activations, self.engine.layer_path)
        if not self.uses_gradients:
            return activations_32, None
        gradients = tape.gradient(scores, activations)
        if gradients is None:
            raise ValueError(
                f"layer: the target does not depend on layer "
                f"{self.engine.layer_path!r}; choose a layer that feeds the "
                f"chosen output."
            )
        return activations_32, tf.cast(gradients, tf.float32)

    def _cam_graph(self, target):
        def cam_graph(inputs, params):
            activations, gradients = self.layer_pass(inputs, target, params)
            weights = self.weights(activations, gradients)
            return weighted_map(weights, activations, inputs.shape[1:3])

        return cam_graph


def as_tensors(params):
    """A numpy parameter structure as tensors."""
    return tf.nest.map_structure(tf.constant, params)


def spatial_sum(tensor):
    """Sum over the spatial axes of `(B, h, w, K)`, keeping dims."""
    return tf.reduce_sum(tensor, axis=[1, 2], keepdims=True)


def hashable(value):
    """A hashable stand-in for an option value (arrays by content, lists by items), for
    the explainer caches: an unhashable option is then checked by the explainer itself."""
    if isinstance(value, (np.ndarray, tf.Tensor)):
        array = np.ascontiguousarray(value)
        return ("array", array.shape, str(array.dtype), hashlib.sha1(array.tobytes()).hexdigest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((k, hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


def check_options(cls, name, options, taken=()):
    """Raises a `TypeError` naming the first of `options` that `cls` does not take.

    Args:
        cls: The explainer class (its constructor's keyword arguments are the options).
        name: String, the function form's name, for the message.
        options: Dict of the options given.
        taken: Names the function form takes itself (`batch_size`, `normalize`, ...).
    """
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    known = [
        k for k, p in params.items() if k not in ("self", "model") and p.kind is not p.VAR_KEYWORD
    ] + list(taken)
    for key in options:
        if key not in known:
            raise TypeError(
                f"{key}: not an option of {name}; it takes {', '.join(sorted(set(known)))}."
            )


def explain(
    cls,
    model,
    inputs,
    target=None,
    *,
    layer=None,
    output=None,
    logits=True,
    batch_size=32,
    normalize=True,
    **options,
):
    """Runs a cached `cls(model, layer, ...)` explainer (the function forms use this).

    Explainers are cached per (method, model, layer, output, logits, options), so repeated
    calls reuse the compiled graphs. The cache holds the last few models.
    """
    key = (
        cls,
        id(model),
        layer if isinstance(layer, (str, int, type(None))) else id(layer),
        hashable(output),
        hashable(logits),
        hashable(options),
    )
    explainer = _cache.get(key)
    if explainer is None or explainer.model is not model:
        check_options(cls, cls.__name__, options, ("batch_size", "normalize"))
        explainer = cls(model, layer, output=output, logits=logits, **options)
        _cache[key] = explainer
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return explainer(inputs, target, batch_size=batch_size, normalize=normalize)


_FUNCTION_DOC = """{title} maps `(B, H, W)` float32 in [0, 1]: the function form of `{cls}`.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `layer`, `output`, `logits`{extra}, `batch_size` (Integer, default 32)
            and `normalize` (Boolean, default True), as in `{cls}`. The explainer is cached
            per (model, options), so repeated calls reuse its compiled graphs.

    Returns:
        float32 numpy array `(B, H, W)`.

    Raises:
        ValueError: On bad inputs, layer, target or output (the message names which).

    Example:
        >>> cams = tfxai.{name}(model, images, target=[3, 5]{example})

    Reference:
        {reference}
    """


def function_form(cls, name, title, reference, extra="", example=""):
    """Builds the function twin `name(model, inputs, target=None, **options)` of `cls`."""

    def explain_with(model, inputs, target=None, **options):
        return explain(cls, model, inputs, target, **options)

    explain_with.__name__ = explain_with.__qualname__ = name
    explain_with.__module__ = cls.__module__
    explain_with.__doc__ = _FUNCTION_DOC.format(
        title=title, cls=cls.__name__, name=name, reference=reference, extra=extra, example=example
    )
    return explain_with


def clear_cache():
    """Drops every cached explainer (and the models they hold)."""
    _cache.clear()
