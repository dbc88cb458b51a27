"""`Explainer`: the one base of the CAMs and the attributions, and their function twins.

An explainer holds a `tfxai.engine.Engine` (the model, the chosen output, the optional
layer capture and the compiled graphs) and turns `explainer(inputs, target)` into float32
maps `(B, H, W)`: the inputs are walked batch by batch (`tfxai.batches`: numpy, tensors or
a `tf.data.Dataset`, with the target's per-sample parameters bound once and sliced),
`explain_batch` computes each batch's raw maps, and the maps are checked finite and scaled
to [0, 1] per image. Subclasses only write `explain_batch` (the CAMs write a weighting
function instead: `tfxai.cam.base.CAM`).

Every class has a function twin, `tfxai.grad_cam(model, inputs, target, **options)` for
`GradCAM`, built by `function_form`: it runs an explainer kept in the package's one cache
(`tfxai.cache`), so repeated calls with the same model and options reuse its graphs.

One idea, kept whole past 300 lines: the base class and the function twin it generates
are read together whenever a method is added (docstrings are about half the module).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import batches as batches_lib
from tfxai import cache as cache_lib
from tfxai import engine as engine_lib
from tfxai import inputs as inputs_lib
from tfxai import model_inputs
from tfxai import targets as targets_lib
from tfxai._typing import Images, TargetLike


def normalize_maps(maps: np.ndarray) -> np.ndarray:
    """Scales each map of a `(B, H, W)` (or `(B, D, H, W)`) batch to [0, 1] over all its
    non-batch axes; a constant map becomes all zero."""
    maps = np.asarray(maps, dtype=np.float32)
    axes = tuple(range(1, maps.ndim))
    low = maps.min(axis=axes, keepdims=True)
    span = maps.max(axis=axes, keepdims=True) - low
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (maps - low) / safe, 0.0).astype(np.float32)


def finite_maps(maps: np.ndarray, model: keras.Model) -> np.ndarray:
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


def as_tensors(params: Any) -> Any:
    """A numpy parameter structure as tensors."""
    return tf.nest.map_structure(tf.constant, params)


class Explainer:
    """Base class of every explainer: the engine, the batching loop and the map checks.

    Subclasses implement `explain_batch`. Class attributes set the rest: `captures_layer`
    (the engine captures an inner layer, as the CAMs do), `perturbs` (the method
    evaluates the model away from the input, so `target=None` is fixed to the class
    predicted on the clean image first) and `call_options` (options of `__call__` that the
    function twin passes to the call rather than to the constructor).

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        layer: The layer to capture, when `captures_layer`: name, nested path, index,
            layer object, or `None` (default) for the last layer with a 4-D output.
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (name or position; `None`: the only input of rank 4 or 5). The call's
            `inputs` then give every input, and the others are held fixed.

    Attributes:
        engine: The `tfxai.engine.Engine`; `engine.traces` counts the graphs traced so far.
    """

    captures_layer = False
    perturbs = False
    call_options: tuple[str, ...] = ()

    def __init__(
        self,
        model: keras.Model,
        layer: Any = None,
        *,
        output: Any = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        inputs_lib.check_model(model)
        self.engine = engine_lib.Engine(
            model,
            layer,
            output=output,
            capture=self.captures_layer,
            logits=inputs_lib.check_bool(logits, "logits"),
            input=input,
        )

    @property
    def model(self) -> keras.Model:
        """The explained Keras model."""
        return self.engine.model

    def __repr__(self) -> str:
        layer = f", layer={self.engine.layer_path!r}" if self.captures_layer else ""
        return f"{type(self).__name__}(model={self.model.name!r}{layer})"

    def __call__(
        self,
        inputs: Images,
        target: TargetLike = None,
        *,
        batch_size: int = 32,
        normalize: bool = True,
    ) -> np.ndarray:
        """Explains `inputs` for `target`.

        Args:
            inputs: Images `(B, H, W, C)` as numpy, `tf.Tensor`, or a `tf.data.Dataset` of
                such batches (elements `x` or `(x, y)`). For a model with several inputs:
                a tuple/list of arrays in the model's order or a dict by input name, the
                image input's maps are returned (see `input`).
            target: `None` (predicted class), int, list of ints (one per sample; with a
                dataset, one per image of the whole dataset), `"labels"` (each dataset
                element's `y`), callable on the output logits, or a `tfxai.targets.Target`.
            batch_size: Integer, default 32. Model evaluations (images, or their masked,
                noisy or interpolated copies) per compiled pass.
            normalize: Boolean, default True. Scale each map to [0, 1].

        Returns:
            float32 numpy array `(B, H, W)` (`(B, D, H, W)` for volumes).
        """
        normalize = inputs_lib.check_bool(normalize, "normalize")
        (maps,) = self.collect(inputs, target, batch_size, self._maps_of_batch)
        return self.finish(maps, normalize)

    def explain_batch(
        self,
        batch: np.ndarray,
        target: targets_lib.Target,
        params: Any,
        batch_size: int,
        offset: int,
    ) -> np.ndarray:
        """Raw float32 maps `(b, H, W)` of one checked batch.

        Args:
            batch: float32 images `(b, H, W, C)`, checked against the model.
            target: The batch's `Target`.
            params: Its bound per-sample parameters.
            batch_size: Integer, model evaluations per compiled pass.
            offset: Integer, the position of the batch's first image in the inputs.
        """
        raise NotImplementedError

    def explain_bound(
        self,
        batch: np.ndarray,
        target: targets_lib.Target,
        params: Any,
        batch_size: int,
        offset: int = 0,
        normalize: bool = True,
    ) -> np.ndarray:
        """Finished maps `(b, H, W)` of one checked batch with its bound target: what
        `__call__` computes for these images at position `offset` of its inputs (the
        streamed runs of `tfxai.scale` call this per batch).

        Args:
            batch: float32 images `(b, H, W, C)`, checked against the model.
            target: The batch's `Target`.
            params: Its bound per-sample parameters.
            batch_size: Integer, model evaluations per compiled pass.
            offset: Integer, default 0. The position of the batch's first image.
            normalize: Boolean, default True. Scale each map to [0, 1].
        """
        if self.perturbs:
            target, params = self.fixed_target(batch, target, params)
        return self.finish(self.explain_batch(batch, target, params, batch_size, offset), normalize)

    def _maps_of_batch(self, *args: Any) -> tuple[np.ndarray]:
        return (self.explain_batch(*args),)

    def finish(self, maps: np.ndarray, normalize: bool) -> np.ndarray:
        """Checks raw maps finite and scales each to [0, 1] when `normalize`."""
        maps = finite_maps(np.asarray(maps, np.float32), self.model)
        return normalize_maps(maps) if normalize else maps

    def collect(
        self, inputs: Images, target: TargetLike, batch_size: int, fn: Callable[..., tuple]
    ) -> tuple[np.ndarray, ...]:
        """Runs `fn(batch, target, params, batch_size, offset) -> tuple of arrays` over
        the checked batches of `inputs` and concatenates each result along axis 0."""
        inputs_lib.check_not_model(inputs)
        whole = targets_lib.to_target(target)
        batch_size = inputs_lib.positive_int(batch_size, "batch_size")
        image = self.engine.image_input
        if image is not None:
            inputs, others = model_inputs.split_inputs(inputs, self.model, image)
            whole = model_inputs.with_inputs(whole, others)
        results, offset = [], 0
        for batch, batch_target, params in batches_lib.target_batches(
            inputs, self.model, whole, batch_size, input=image
        ):
            if self.perturbs:
                batch_target, params = self.fixed_target(batch, batch_target, params)
            results.append(fn(batch, batch_target, params, batch_size, offset))
            offset += len(batch)
        return tuple(np.concatenate(parts, axis=0) for parts in zip(*results))

    def image_part(self, inputs: Any) -> Any:
        """The image batch of `inputs`: `inputs` itself, or for a model with several inputs
        (`input=`) its image input's array (the whole call's `inputs` are checked)."""
        image = self.engine.image_input
        if image is None or isinstance(inputs, tf.data.Dataset):
            return inputs
        return model_inputs.split_inputs(inputs, self.model, image)[0]

    def fixed_target(
        self, batch: np.ndarray, target: targets_lib.Target, params: Any
    ) -> tuple[targets_lib.Target, Any]:
        """`predicted()` becomes the class predicted on `batch` (for dense outputs: that
        class's logit over the pixels predicted as it); other targets are returned as is.
        """
        inner = getattr(target, "inner", target)  # a `with_inputs` target's own target
        if inner.key != ("predicted",):
            return target, params
        outputs = self.outputs(batch, params)
        if outputs.ndim == 2:
            fixed = targets_lib.class_score(outputs.argmax(axis=-1).astype(np.int32))
        else:
            spatial = tuple(range(1, outputs.ndim - 1))
            ids = outputs.mean(axis=spatial).argmax(axis=-1).astype(np.int32)
            mask = outputs.argmax(axis=-1) == ids.reshape((-1,) + (1,) * len(spatial))
            fixed = targets_lib.mask_score(ids, mask)
        if inner is not target:
            fixed = model_inputs.with_inputs(fixed, params[1])
        return fixed, fixed.bind(len(batch))

    def outputs(self, batch: np.ndarray, params: Any = None) -> np.ndarray:
        """The scored output (logits unless `logits=False`) of `batch`, float32 numpy.

        Args:
            batch: Checked float32 images.
            params: The batch's target parameters, default `None`; needed for a model with
                several inputs (they carry the other inputs).
        """
        engine = self.engine
        if engine.image_input is None or params is None:
            params = {"none": np.zeros((len(batch), 0), np.float32)}

        def forward(x, p):
            return engine.scored(engine.run_model(x, p))

        run = engine.compile(("explainer", "outputs"), forward, batch, params)
        return run(tf.constant(batch), as_tensors(params)).numpy()

    def compiled(
        self, name: Hashable, fn: Callable, batch: np.ndarray, params: Any, target: Any
    ) -> Callable:
        """The engine's concrete function, with the target checked against the output."""
        self.engine.check_target(target, len(batch))
        run = self.engine.compile((type(self).__name__, name, target.key), fn, batch, params)
        target.check(self.engine.output_shape, len(batch))
        return run


# --------------------------------------------------------------------------- function twins


def hashable(value: Any) -> Hashable:
    """A hashable stand-in for an option value (arrays by content, lists by items), for
    the cache key: an unhashable option is then checked by the explainer itself."""
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


def check_options(cls: type, name: str, options: dict, taken: Iterable[str] = ()) -> None:
    """Raises a `TypeError` naming the first of `options` that `cls` does not take.

    Args:
        cls: The explainer class (its constructor's keyword arguments are the options).
        name: String, the function form's name, for the message.
        options: Dict of the options given.
        taken: Names the function form takes itself (`batch_size`, `normalize`, ...).
    """
    params = inspect.signature(cls).parameters
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
    cls: type[Explainer],
    model: keras.Model,
    inputs: Any,
    target: TargetLike = None,
    *,
    batch_size: int = 32,
    normalize: bool = True,
    **options: Any,
) -> Any:
    """Runs the cached `cls(model, **options)` (the function twins call this).

    Options named in `cls.call_options` go to the call, the others to the constructor. The
    explainer is kept in `tfxai.cache` per (class, model, options).
    """
    call = {name: options.pop(name) for name in cls.call_options if name in options}

    def build():
        taken = ("batch_size", "normalize") + tuple(cls.call_options)
        check_options(cls, cls.__name__, dict(options, **call), taken)
        return cls(model, **options)

    key = (cls, hashable(options))
    explainer, _ = cache_lib.fetch(cache_lib.EXPLAINER, model, key, build)
    return explainer(inputs, target, batch_size=batch_size, normalize=normalize, **call)


_FUNCTION_DOC = """{title} maps `(B, H, W)` float32 in [0, 1]: the function form of `{cls}`.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)` (volumes `(B, D, H, W, C)`): numpy, `tf.Tensor` or
            `tf.data.Dataset`; for a model with several inputs, every input (`input=`).
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: {options}{extra}, `batch_size` (Integer, default 32, {per_pass}
            per compiled pass) and `normalize` (Boolean, default True), as in `{cls}`. The
            explainer is cached per (model, options), so repeated calls reuse its graphs.

    Returns:
        float32 numpy array `(B, H, W)` (`(B, D, H, W)` for volumes){returns}.

    Raises:
        ValueError: On bad inputs, {checked} or options (the message names which).

    Example:
        >>> maps = tfxai.{name}(model, images, target=[3, 5]{example})

    Reference:
        {reference}
    """


def function_form(
    cls: type[Explainer],
    name: str,
    title: str,
    reference: str,
    extra: str = "",
    example: str = "",
    returns: str = "",
) -> Callable[..., Any]:
    """Builds the function twin `name(model, inputs, target=None, **options)` of `cls`.

    Args:
        cls: The explainer class.
        name: String, the function's name (`"grad_cam"`).
        title: String, the method's name in the docstring's summary line.
        reference: String, the paper (arXiv link) for the docstring.
        extra: String, more options for the docstring, e.g. ", `top_n`".
        example: String, more arguments for the docstring's example call.
        returns: String, appended to the docstring's return description.
    """

    def explain_with(
        model: keras.Model, inputs: Images, target: TargetLike = None, **options: Any
    ) -> np.ndarray:
        return explain(cls, model, inputs, target, **options)

    if returns:  # e.g. Integrated Gradients' `(maps, delta)` with `return_delta=True`
        explain_with.__annotations__["return"] = np.ndarray | tuple[np.ndarray, np.ndarray]
    layer = "`layer`, " if cls.captures_layer else ""
    if "tokens" in inspect.signature(cls).parameters:  # the CAMs: token layers' grid
        extra += ", `tokens` (`(height, width, skip)` of a token layer; default inferred)"
    explain_with.__name__ = explain_with.__qualname__ = name
    explain_with.__module__ = cls.__module__
    explain_with.__doc__ = _FUNCTION_DOC.format(
        title=title,
        cls=cls.__name__,
        name=name,
        reference=reference,
        options=f"{layer}`output`, `logits`, `input`",
        extra=extra,
        per_pass="images" if cls.captures_layer else "model evaluations",
        checked="layer, target" if cls.captures_layer else "target",
        example=example,
        returns=returns,
    )
    return explain_with
