"""Every explainer by name, and one place that builds an explainer from a name or class.

`build(method, model, layer=..., **options)` turns a method name (`"grad_cam"`), an
explainer class (`tfxai.GradCAM`), a function form (`tfxai.grad_cam`) or any callable
`fn(model, inputs, target=..., **options)` into one callable `explain(inputs, target)`
that holds the compiled graphs of its class twin. Options are checked when the explainer
is built, against the class's constructor and call, so a typo fails at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

import keras
import numpy as np

from tfxai import attribution, cam
from tfxai._typing import Images, LayerRef, TargetLike

METHODS = {**cam.CAM_METHODS, **attribution.ATTRIBUTION_METHODS}
_CALL_OPTIONS = ("batch_size", "normalize")

#: A method: a name from `METHODS`, an explainer class, a function form or a callable.
Method = str | type | Callable[..., Any]
#: A built explainer `explain(inputs, target) -> (B, H, W)`.
Built = Callable[[Images, TargetLike], np.ndarray]


def method_name(method: Method) -> str:
    """A short name for `method` (a name, class, function or callable), for labels."""
    if isinstance(method, str):
        return method
    for name, cls in METHODS.items():
        if method is cls:
            return name
    return getattr(method, "__name__", None) or type(method).__name__


def explainer_class(method: Method) -> type[Any] | None:
    """The explainer class of `method`, or `None` for a callable that is not one of ours.

    Args:
        method: A name from `METHODS`, an explainer class, a function form such as
            `tfxai.grad_cam`, or any other callable.

    Raises:
        ValueError: On an unknown name.
        TypeError: If `method` is neither a string nor callable.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(
                f"method: unknown method {method!r}; expected one of "
                f"{', '.join(METHODS)}, an explainer class or a callable."
            )
        return METHODS[method]
    if inspect.isclass(method) and issubclass(method, (cam.CAM, attribution.Attribution)):
        return method
    if not callable(method):
        raise TypeError(
            f"method: expected a method name, an explainer class or a callable, "
            f"got {type(method).__name__}."
        )
    name = getattr(method, "__name__", None)
    if name in METHODS and getattr(method, "__module__", "").startswith("tfxai."):
        return METHODS[name]  # a function form: use its class twin
    return None


def is_instance(method: object) -> TypeGuard[cam.CAM | attribution.Attribution]:
    """True when `method` is an explainer instance (`tfxai.GradCAM(model)`, ...)."""
    return isinstance(method, (cam.CAM, attribution.Attribution))


def check_instance(
    instance: cam.CAM | attribution.Attribution, model: keras.Model, name: str = "method"
) -> cam.CAM | attribution.Attribution:
    """Returns an explainer instance if it explains `model`.

    Raises:
        ValueError: If the instance was built on another model, naming `name`.
    """
    if instance.model is not model:
        raise ValueError(
            f"{name}: the {type(instance).__name__} instance explains model "
            f"{instance.model.name!r}, not {model.name!r}; build it on this "
            f"model, e.g. {type(instance).__name__}(model)."
        )
    return instance


def refuse_class(method: Method, name: str) -> Method:
    """Refuses an explainer class where a callable `fn(model, inputs, target=...)` goes.

    `tfxai.GradCAM` is callable, but calling it builds an explainer: `GradCAM(model,
    images, target=...)` would take the images for the layer.

    Raises:
        TypeError: If `method` is a tfxai explainer class, naming `name` and the two
            forms that work.
    """
    if inspect.isclass(method) and issubclass(method, (cam.CAM, attribution.Attribution)):
        raise TypeError(
            f"{name}: got the class {method.__name__}, which is built on a "
            f"model rather than called on images; pass the function "
            f"tfxai.{method_name(method)} or an instance "
            f"{method.__name__}(model, ...)."
        )
    return method


def _instance_options(
    instance: cam.CAM | attribution.Attribution,
    layer: LayerRef | None,
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`({}, call_options)` for an explainer instance, which holds its other options."""
    call_names = _CALL_OPTIONS + tuple(getattr(instance, "call_options", ()))
    held = sorted(k for k in options if k not in call_names)
    held += ["layer"] if layer is not None else []
    if held:
        raise ValueError(
            f"{held[0]}: a {type(instance).__name__} instance already holds its "
            f"options; build it with {', '.join(held)}, or pass the method's "
            f"name."
        )
    return {}, dict(options)


def takes_layer(cls: type[Any]) -> bool:
    """True when the explainer class takes a `layer` (the CAMs, Guided Grad-CAM)."""
    return "layer" in inspect.signature(cls.__init__).parameters


def split_options(
    method: Method, layer: LayerRef | None, options: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Checks `options` against `method` and splits them into constructor and call options.

    Returns:
        `(init_options, call_options)` dicts (`layer` is in `init_options` when given).

    Raises:
        ValueError: On an option the method does not take, or `layer` for a method that
            takes none.
    """
    if is_instance(method):
        return _instance_options(method, layer, options)
    cls = explainer_class(method)
    if cls is None:  # a user's callable: every option goes to it, unchecked
        return {}, dict(options, **({} if layer is None else {"layer": layer}))
    init = inspect.signature(cls.__init__).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in init.values())
    call_names = _CALL_OPTIONS + tuple(getattr(cls, "call_options", ()))
    init_options, call_options = {}, {}
    for key, value in options.items():
        if key in call_names:
            call_options[key] = value
        elif (key in init and key not in ("self", "model", "layer")) or accepts_any:
            init_options[key] = value
        else:
            allowed = sorted(
                k
                for k in init
                if k not in ("self", "model", "layer") and init[k].kind is not init[k].VAR_KEYWORD
            )
            raise ValueError(
                f"{key}: not an option of {method_name(method)!r}; it takes "
                f"{', '.join(allowed + list(call_names))}."
            )
    if layer is not None:
        if not takes_layer(cls):
            raise ValueError(
                f"layer: {method_name(method)!r} explains the input pixels and "
                f"takes no layer; got layer={layer!r}."
            )
        init_options["layer"] = layer
    return init_options, call_options


def build(
    method: Method, model: keras.Model, *, layer: LayerRef | None = None, **options: Any
) -> Built:
    """An explainer `explain(inputs, target) -> (B, H, W)` holding its compiled graphs.

    Args:
        method: A name from `tfxai.methods.METHODS` (`"grad_cam"`, `"smooth_grad"`, ...),
            an explainer class, an explainer instance built on `model`
            (`tfxai.GradCAM(model, top_n=8)`: used as it is), a function form
            (`tfxai.grad_cam`) or a callable `fn(model, inputs, target=..., **options)`.
        model: The Keras model; never changed.
        layer: Layer reference for the methods that take one, default `None`.
        **options: The method's options (constructor and call options alike).

    Returns:
        A callable `explain(inputs, target)`; for tfxai's methods it has an `explainer`
        attribute, the class twin (its `engine.traces` counts compiled graphs).

    Raises:
        ValueError: On an unknown method or option, a bad layer (see `resolve_layer`), or
            an explainer instance built on another model or given options it holds.

    Example:
        >>> explain = tfxai.methods.build("grad_cam", model, layer="block4_out")
        >>> maps = explain(images, labels)
    """
    init_options, call_options = split_options(method, layer, options)
    if is_instance(method):
        return _bound(check_instance(method, model), call_options)
    cls = explainer_class(method)
    if cls is None:

        def explain_with_callable(inputs: Images, target: TargetLike) -> np.ndarray:
            # explainer_class is None only for a callable, never for a name.
            return method(model, inputs, target=target, **call_options)  # type: ignore[operator]

        return explain_with_callable
    explainer = cls(model, **init_options)

    def explain(inputs: Images, target: TargetLike) -> np.ndarray:
        return explainer(inputs, target, **call_options)

    explain.explainer = explainer  # type: ignore[attr-defined]
    return explain


def _bound(explainer: cam.CAM | attribution.Attribution, call_options: dict[str, Any]) -> Built:
    """`explain(inputs, target)` calling an explainer instance."""

    def explain(inputs: Images, target: TargetLike) -> np.ndarray:
        return explainer(inputs, target, **call_options)

    explain.explainer = explainer  # type: ignore[attr-defined]
    return explain
