"""Gallery planning: which layers and channels a `gallery` call renders, checked.

Resolves the layer references, gives each layer a unique file-name-safe slug, finds its
channel count (from `layer.output`, else by tracing the model once) and turns `channels`
(`None`, `N`, a list, a dict per layer) into one list of channel indices per layer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import numbers
import re
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import arguments
from tfxai.keras_private import model_input_shape, shadow_calls
from tfxai.layer_lookup import layer_path, resolve_layer


@dataclasses.dataclass
class LayerPlan:
    """One layer of a gallery: its path, the layer, its file slug, channel count, the channels
    to show and its settings key (set by `gallery`)."""

    path: str
    layer: object
    slug: str
    count: int
    channels: list[int] = dataclasses.field(default_factory=list)
    key: str = ""


def plan(model: keras.Model, layers: Any, channels: Any) -> list[LayerPlan]:
    """Resolves `layers` and `channels` into a list of `LayerPlan`, checked.

    Args:
        model: A Keras model.
        layers: A layer reference or a list of them, as for `gallery`.
        channels: `None`, an integer `N`, a list of channel indices or a dict of them per
            layer, as for `gallery`.

    Returns:
        One `LayerPlan` per layer, its `channels` filled in.

    Raises:
        ValueError: On an unknown or repeated layer, or channels that do not fit.
        TypeError: On a layer reference of the wrong type.
    """
    refs = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not refs:
        raise ValueError("layers: expected at least one layer, got an empty list.")
    plan: list[LayerPlan] = []
    slugs: set[str] = set()
    for ref in refs:
        layer = _resolve(model, ref, "layers")
        path = layer_path(model, layer)
        if any(item.layer is layer for item in plan):
            raise ValueError(f"layers: {path!r} is listed more than once.")
        slug = _slug(path, slugs)
        plan.append(LayerPlan(path, layer, slug, _channel_count(model, layer, path)))
    for item, wanted in zip(plan, _per_layer(model, plan, channels), strict=True):
        item.channels = _channel_list(wanted, item)
    _check_first_n(channels, plan)
    return plan


def _check_first_n(channels, plan):
    """Refuses `channels=N` larger than every layer's channel count (a typo, not a limit).

    N is clamped to the count of a smaller layer when another layer has N channels or more.
    """
    if isinstance(channels, bool) or not isinstance(channels, numbers.Integral):
        return
    most = max(item.count for item in plan)
    if channels > most:
        counts = ", ".join(f"{item.path!r} has {item.count}" for item in plan)
        raise ValueError(
            f"channels: got {channels}, more channels than any layer has "
            f"({counts}); expected at most {most}, or None for every channel."
        )


def _resolve(model, ref, name):
    try:
        return resolve_layer(model, ref)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {str(error).removeprefix('layer: ')}") from error


def _slug(path, taken):
    """A file-name-safe, unique name for a layer path: `/` becomes `--`.

    Paths that needed other changes (or already hold `--`) get a short hash of the path.
    """
    plain = path.replace("/", "--")
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", plain).lstrip(".") or "layer"
    if slug != plain or "--" in path or slug.lower() in taken:
        slug = f"{slug}-{hashlib.sha256(path.encode('utf-8')).hexdigest()[:6]}"
    taken.add(slug.lower())
    return slug


def _channel_count(model, layer, path):
    """The size of the last axis of `layer`'s output (static, else traced once)."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError, RuntimeError):
        shape = _traced_shape(model, layer, path)
    if shape is None or len(shape) < 2 or shape[-1] is None:
        raise ValueError(
            f"layers: {path!r} has an output of shape {shape}; a gallery needs "
            f"a layer with a known number of channels on its last axis."
        )
    return int(shape[-1])


def _traced_shape(model, layer, path):
    input_shape = model_input_shape(model)
    if input_shape is None:
        raise ValueError(
            f"layers: cannot find the channel count of {path!r}: model "
            f"{model.name!r} has no known input shape; call it once first."
        )
    shapes = []

    def record(_, output):
        shapes.append(getattr(output, "shape", None))
        return output

    def trace(x):
        with shadow_calls([layer], record):
            model(x, training=False)
        return tf.constant(0.0)

    tf.function(trace).get_concrete_function(
        tf.TensorSpec((1,) + tuple(input_shape[1:]), tf.float32)
    )
    return tuple(shapes[0]) if shapes and shapes[0] is not None else None


def _per_layer(model, plan, channels):
    """`channels` as one entry per planned layer (a dict is matched by resolved layer)."""
    if not isinstance(channels, dict):
        return [channels] * len(plan)
    by_layer = {}
    for ref, wanted in channels.items():
        layer = _resolve(model, ref, "channels")
        if not any(item.layer is layer for item in plan):
            raise ValueError(f"channels: the key {ref!r} is not one of `layers`.")
        by_layer[id(layer)] = wanted
    for item in plan:
        if id(item.layer) not in by_layer:
            raise ValueError(
                f"channels: no entry for layer {item.path!r}; give one per layer "
                f"(None for every channel)."
            )
    return [by_layer[id(item.layer)] for item in plan]


def _channel_list(wanted, item):
    if wanted is None:
        return list(range(item.count))
    if isinstance(wanted, numbers.Integral) and not isinstance(wanted, bool):
        arguments.positive_int(wanted, "channels")
        return list(range(min(int(wanted), item.count)))
    if not isinstance(wanted, (list, tuple, range, np.ndarray)) or len(wanted) == 0:
        raise ValueError(
            f"channels: expected None, a positive integer, a non-empty list of "
            f"channel indices or a dict of them, got {wanted!r}."
        )
    for c in wanted:
        if (
            isinstance(c, bool)
            or not isinstance(c, numbers.Integral)
            or not 0 <= int(c) < item.count
        ):
            raise ValueError(
                f"channels: expected channel indices in [0, {item.count - 1}] "
                f"for layer {item.path!r}, got {c!r}."
            )
    if len({int(c) for c in wanted}) != len(wanted):
        raise ValueError(
            f"channels: repeated channel indices for layer {item.path!r}: {list(wanted)!r}."
        )
    return [int(c) for c in wanted]
