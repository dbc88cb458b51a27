"""The model side of the sanity check: a copy of the model, and its layers re-drawn.

`copy_model` clones a model with its weights (the user's model is only read);
`randomization_order` lists the leaf layers with trainable-by-construction weights from
the top (logits) down; `reinitialize` re-draws a layer's parameters from its own
initializers, seeded. Used by `tfxai.metrics.sanity_check`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import keras
import numpy as np

from tfxai import engine as engine_lib
from tfxai._typing import LayerRef

_INITIALIZER_NAMES = {
    "kernel": ("kernel_initializer", "depthwise_initializer"),
    "depthwise_kernel": ("depthwise_initializer",),
    "pointwise_kernel": ("pointwise_initializer",),
    "recurrent_kernel": ("recurrent_initializer",),
    "embeddings": ("embeddings_initializer",),
}


def copy_model(model: keras.Model, images: np.ndarray) -> keras.Model:
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
        if isinstance(layer, keras.layers.Layer):  # not a Functional model's `x + y` op
            layer.trainable = True
    return copy


def parameters(layer: keras.layers.Layer) -> list[keras.Variable]:
    """The layer's own trainable-by-construction variables (none for containers and ops)."""
    if isinstance(layer, keras.Model) or not isinstance(layer, keras.layers.Layer):
        return []  # a container, or an operation of a Functional model (`x + y`)
    return list(layer.trainable_weights)


def randomization_order(
    model: keras.Model, layers: LayerRef | Sequence[LayerRef] | None = None
) -> list[tuple[str, keras.layers.Layer]]:
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
        refs = [layers] if single else list(cast(Iterable[LayerRef], layers))
    except TypeError:
        raise TypeError(
            f"layers: expected None, a layer reference or a list of them, got "
            f"{type(layers).__name__}."
        ) from None
    if not refs:
        raise ValueError("layers: expected None or at least one layer name, got an empty list.")
    chosen: set[int] = set()
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


def _initializer(
    layer: keras.layers.Layer, variable: keras.Variable, seed: int
) -> keras.initializers.Initializer:
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


def reinitialize(layer: keras.layers.Layer, seed: int) -> None:
    """Re-draws every parameter of `layer` (a layer of a copy) from its initializer."""
    for index, variable in enumerate(parameters(layer)):
        variable_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0] >> 1)
        initializer = _initializer(layer, variable, variable_seed)
        value = initializer(tuple(variable.shape), dtype=variable.dtype)
        variable.assign(value)
