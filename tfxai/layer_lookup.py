"""Layer resolution: find a layer of a model by name, nested path, index or object.

Works on Sequential, Functional, nested (a model used as a layer) and subclassed models.
`None` picks the last layer with a 4-D output larger than 1x1, tracing (not running) the
model once when the shapes are not declared. Unknown names fail with the closest names
suggested. Nothing is cloned and nothing is changed.
"""

from __future__ import annotations

import difflib
import warnings
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import token_influence
from tfxai.keras_private import model_input_shape, shadow_calls


def sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    """Direct sub-layers of a model or layer.

    Args:
        layer: A Keras layer or model.

    Returns:
        The layers of a model, `[]` for any other layer.
    """
    try:
        return list(layer.layers) if isinstance(layer, keras.Model) else []
    except AttributeError:
        return []


def layer_paths(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    """Lists `(path, layer)` for every layer of `model`, depth first, nested models included.

    Args:
        model: A Keras model.

    Returns:
        List of `("outer/inner", layer)` pairs in call order.

    Example:
        >>> paths = [path for path, _ in layer_paths(tfxai.models.load("shapes-classifier"))]
        >>> paths[0], paths[2]
        ('image', 'stem_conv')
    """
    found = []

    def walk(container, prefix):
        for child in sublayers(container):
            path = f"{prefix}{child.name}"
            found.append((path, child))
            walk(child, path + "/")

    walk(model, "")
    return found


def leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of `model` without sub-layers, depth first, nested models walked into.

    Args:
        model: A Keras model.

    Returns:
        List of layers in call order.
    """
    return [layer for _, layer in layer_paths(model) if not sublayers(layer)]


def _unknown_layer(model, ref):
    paths = [p for p, _ in layer_paths(model)]
    leaves = {p.rsplit("/", 1)[-1]: p for p in paths}
    close = difflib.get_close_matches(str(ref), paths, n=5, cutoff=0.5)
    close += [
        leaves[n]
        for n in difflib.get_close_matches(
            str(ref).rsplit("/", 1)[-1], list(leaves), n=5, cutoff=0.6
        )
        if leaves[n] not in close
    ]
    hint = f" Closest names: {', '.join(close[:5])}." if close else ""
    return ValueError(
        f"layer: no layer {ref!r} in model {model.name!r}.{hint} Nested layers are named by "
        f"path, e.g. 'backbone/conv5_block3_out'."
    )


def resolve_layer(model: keras.Model, ref: Any = None) -> keras.layers.Layer:
    """Finds a layer of `model` from a flexible reference.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed).
        ref: The layer: a name, a path through nested models (`"resnet50/conv5_block3_out"`),
            an integer index into `model.layers`, a layer object of the model, or `None` for
            the last layer with a 4-D output (searching into nested models).

    Returns:
        The `keras.layers.Layer`.

    Raises:
        ValueError: If no layer matches (the closest names are suggested), a bare name is
            ambiguous across nested models, or `None` finds no 4-D layer.
        TypeError: If `ref` is of an unsupported type.

    Example:
        >>> resolve_layer(model, "resnet50/conv5_block3_out")
    """
    if ref is None:
        return last_spatial_layer(model)
    if isinstance(ref, keras.layers.Layer):
        if any(layer is ref for _, layer in layer_paths(model)):
            return ref
        raise ValueError(
            f"layer: the layer object {ref.name!r} is not part of model {model.name!r}."
        )
    if isinstance(ref, (int, np.integer)) and not isinstance(ref, bool):
        layers = sublayers(model)
        if not -len(layers) <= ref < len(layers):
            raise ValueError(
                f"layer: index {ref} is out of range for a model with {len(layers)} layers."
            )
        return layers[ref]
    if not isinstance(ref, str):
        raise TypeError(
            f"layer: expected a name, a path, an int, a Layer or None, got {type(ref).__name__}."
        )
    paths = layer_paths(model)
    exact = [layer for path, layer in paths if path == ref]
    if exact:
        return exact[0]
    by_name = [(path, layer) for path, layer in paths if path.rsplit("/", 1)[-1] == ref]
    if len(by_name) == 1:
        return by_name[0][1]
    if len(by_name) > 1:
        raise ValueError(
            f"layer: the name {ref!r} is ambiguous in model {model.name!r}; "
            f"use a path: {', '.join(p for p, _ in by_name)}."
        )
    raise _unknown_layer(model, ref)


def layer_path(model: keras.Model, layer: keras.layers.Layer) -> str:
    """The path of `layer` inside `model` (e.g. `"resnet50/conv5_block3_out"`).

    Args:
        model: A Keras model.
        layer: One of its layers.

    Returns:
        The path, or the layer's name when it is not found in `model`.
    """
    for path, candidate in layer_paths(model):
        if candidate is layer:
            return path
    return layer.name


def static_shape(layer: keras.layers.Layer) -> tuple[Any, ...] | None:
    """The layer's output shape, `()` for a non-tensor output, `None` when not declared."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    if isinstance(output, (list, tuple, dict)):
        return ()
    return tuple(output.shape)


def last_spatial_layer(model: keras.Model) -> keras.layers.Layer:
    """The last layer (deepest first, in call order) with a 4-D output larger than 1x1.

    For a model with a 5-D input (volumes), the last layer with a 5-D output larger than
    1x1x1. Layers whose map is 1x1 (the convolutions after a global pool, as in
    MobileNet's top, or any layer of a small input) give constant maps, so they are
    passed over; when every such layer is 1x1, the last is returned with a warning.
    `(B, N, D)` token layers after the last 4-D layer (a vision transformer past its patch
    embedding) come first: the last of them whose patch tokens reach the output
    (`tfxai.token_influence.last_token_layer`).

    Args:
        model: A Keras model.

    Returns:
        The layer.

    Raises:
        ValueError: If the model has no layer with a 4-D output (5-D for volumes) and no
            token layer whose patch tokens reach the output.
    """
    paths = layer_paths(model)
    shapes = {id(layer): static_shape(layer) for _, layer in paths}
    unknown = [layer for _, layer in paths if shapes[id(layer)] is None]
    if unknown:
        shapes.update(_probe_shapes(model, unknown))
    rank = 5 if len(model_input_shape(model) or ()) == 5 else 4  # volumes, else images
    axes = (
        "(batch, depth, height, width, channels)"
        if rank == 5
        else "(batch, height, width, channels)"
    )
    spatial = [
        (path, layer)
        for path, layer in paths
        if len(shapes[id(layer)] or ()) == rank and not sublayers(layer)
    ]
    # A vision transformer: its last token layer (past any 4-D patch embedding) whose
    # patches the output reads.
    start = max(
        (i + 1 for i, (_, la) in enumerate(paths) if spatial and la is spatial[-1][1]), default=0
    )
    token_layers = [
        (p, la) for p, la in paths[start:] if len(shapes[id(la)] or ()) == 3 and not sublayers(la)
    ]
    found = token_influence.last_token_layer(model, token_layers) if token_layers else None
    if found is not None:
        return found
    if not spatial:
        raise ValueError(
            f"layer: model {model.name!r} has no layer with a {rank}-D "
            f"{axes} output, nor a (batch, tokens, channels) token layer whose patch tokens "
            f"the output reads; pass `layer=` explicitly."
        )
    extended = [
        (path, layer)
        for path, layer in spatial
        if any(size != 1 for size in (shapes[id(layer)] or ())[1:-1])
    ]
    if extended:
        return extended[-1][1]
    warnings.warn(
        f"layer: every {rank}-D layer of model {model.name!r} is 1x1 at this input size, "
        f"so the maps are constant; using {spatial[-1][0]!r}. Use larger inputs or "
        f"pass `layer=` explicitly.",
        UserWarning,
        stacklevel=3,
    )
    return spatial[-1][1]


def _probe_shapes(model, layers):
    """Output shapes of `layers` found by tracing (not running) the model once."""
    shapes = {}
    shape = model_input_shape(model)
    if shape is None:
        raise ValueError(
            f"layer: cannot find the spatial layers of model {model.name!r} without a known "
            f"input shape; call the model once, or pass `layer=` explicitly."
        )

    def record(layer, output):
        shapes[id(layer)] = tuple(output.shape) if hasattr(output, "shape") else ()
        return output

    def trace(x):
        with shadow_calls(layers, record):
            model(x, training=False)
        return tf.constant(0.0)

    tf.function(trace).get_concrete_function(tf.TensorSpec((1,) + shape[1:], tf.float32))
    return shapes
