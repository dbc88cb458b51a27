"""Layer resolution: find a layer of a model by name, nested path, index or object.

Works on Sequential, Functional, nested (a model used as a layer) and subclassed models.
The operations of a Functional model that are not layers (the `Add` that `x + y` makes,
as in ConvNeXt's residuals) are listed and resolved like layers, by their `name`.
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
from tfxai.keras_private import graph_edges, model_input_shape, shadow_calls


def sublayers(layer: keras.Operation) -> list[keras.layers.Layer]:
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


def children(layer: keras.Operation) -> list[keras.Operation]:
    """Direct sub-layers of a model, with the operations of a Functional model.

    A Functional model runs its layers and also the operations that are not layers (the
    `Add` that `x + y` makes on symbolic tensors, `keras.ops.*` calls): its `operations`.
    Sequential and subclassed models only have layers.

    Args:
        layer: A Keras layer, operation or model.

    Returns:
        The layers and operations of a Functional model in call order, the layers of any
        other model, `[]` for anything else.
    """
    if not isinstance(layer, keras.Model):
        return []
    operations = getattr(layer, "operations", None)  # keras.Function: Functional models
    if isinstance(operations, list) and all(isinstance(op, keras.Operation) for op in operations):
        return operations
    return sublayers(layer)


def layer_paths(model: keras.Model) -> list[tuple[str, keras.Operation]]:
    """Lists `(path, layer)` for every layer of `model`, depth first, nested models included.

    The operations of a Functional model that are not layers (`x + y`'s `Add`, named
    `add`, `add_1`, ... as `model.summary()` shows them) are listed among its layers.

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
        for child in children(container):
            path = f"{prefix}{child.name}"
            found.append((path, child))
            walk(child, path + "/")

    walk(model, "")
    return found


def leaf_layers(model: keras.Model) -> list[keras.Operation]:
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


def resolve_layer(model: keras.Model, ref: Any = None) -> keras.Operation:
    """Finds a layer of `model` from a flexible reference.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed).
        ref: The layer: a name, a path through nested models (`"resnet50/conv5_block3_out"`),
            an integer index into `model.layers`, a layer object of the model, or `None` for
            the last layer with a 4-D output (searching into nested models; see
            `last_spatial_layer`). The operations of a Functional model that are not
            layers (`x + y`) are found by name, path or object too.

    Returns:
        The `keras.layers.Layer`, or the `keras.Operation` (a Functional model's `x + y`).

    Raises:
        ValueError: If no layer matches (the closest names are suggested), a bare name is
            ambiguous across nested models, or `None` finds no 4-D layer.
        TypeError: If `ref` is of an unsupported type.

    Example:
        >>> resolve_layer(model, "resnet50/conv5_block3_out")
    """
    if ref is None:
        return last_spatial_layer(model)
    if isinstance(ref, keras.Operation):
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


def layer_path(model: keras.Model, layer: keras.Operation) -> str:
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


def static_shape(layer: keras.Operation) -> tuple[Any, ...] | None:
    """The layer's output shape, `()` for a non-tensor output, `None` when not declared."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    if isinstance(output, (list, tuple, dict)):
        return ()
    return tuple(output.shape)


def last_spatial_layer(model: keras.Model) -> keras.Operation:
    """The last layer (deepest first, in call order) with a 4-D output larger than 1x1.

    For a model with a 5-D input (volumes), the last layer with a 5-D output larger than
    1x1x1. Layers whose map is 1x1 (the convolutions after a global pool, as in MobileNet's
    top, or any layer of a small input) give constant maps, so they are passed over. When
    the input is so small that the last stage is 1x1 (InceptionV3 at 96 px), the default is
    the last block output larger than 1x1 (`mixed7`: a layer that every path to the output
    goes through, not a branch inside the next block), with a warning. When every such
    layer is 1x1, the last is returned with a warning. `(B, N, D)` token layers after the
    last 4-D layer (a vision transformer past its patch embedding) come first: the last of
    them whose patch tokens reach the output (`tfxai.token_influence.last_token_layer`).

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
    token_layers = [  # images only: a volume's token grid is not inferred
        (p, la)
        for p, la in paths[start:]
        if rank == 4 and len(shapes[id(la)] or ()) == 3 and not sublayers(la)
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
    return _default_spatial(model, paths, spatial, shapes, rank)


def _default_spatial(model, paths, spatial, shapes, rank=4):
    """The default among the `spatial` leaves: the last larger than 1x1, see the rules below.

    - The last spatial leaf larger than 1x1 when it is the last spatial leaf, or when the
      1x1 leaves after it start at a global pooling layer (MobileNet's 1x1 "classifier"
      convolutions after `GlobalAveragePooling2D(keepdims=True)`): no warning.
    - Else the input is so small that the last stage is 1x1 (InceptionV3 at 96 px): the
      last leaf larger than 1x1 that every path from the inputs to the outputs goes
      through (a block output such as `mixed7`, not a branch inside the next block), with
      a warning naming it.
    - When every spatial leaf is 1x1: the last, with a warning (constant maps).
    """
    extended = [(path, layer) for path, layer in spatial if not _is_point(shapes[id(layer)])]
    if not extended:
        warnings.warn(
            f"layer: every {rank}-D layer of model {model.name!r} is 1x1 at this input size, "
            f"so the maps are constant; using {spatial[-1][0]!r}. Use larger inputs or "
            f"pass `layer=` explicitly.",
            UserWarning,
            stacklevel=4,
        )
        return spatial[-1][1]
    last = extended[-1]
    tail = spatial[[layer for _, layer in spatial].index(last[1]) + 1 :]
    if not tail or type(tail[0][1]).__name__.startswith("Global"):
        return last[1]
    on_main_path = main_path_filter(model, paths)
    chosen = next((pair for pair in reversed(extended) if on_main_path(pair[0])), last)
    size = "x".join(str(d) for d in (shapes[id(chosen[1])] or ())[1:-1])
    warnings.warn(
        f"layer: {spatial[-1][0]!r}, the last {rank}-D layer of model {model.name!r}, is 1x1 at "
        f"this input size, so its maps would be constant; using {chosen[0]!r} ({size}), "
        f"the last block output larger than 1x1 (every path to the output goes through "
        f"it). Use larger inputs for a map of the last block, or pass `layer=` explicitly.",
        UserWarning,
        stacklevel=4,
    )
    return chosen[1]


def _is_point(shape):
    """True for a `(batch, 1, 1, ..., channels)` shape: a single position."""
    return all(d == 1 for d in tuple(shape or ())[1:-1])


def main_path_filter(
    model: keras.Model, paths: list[tuple[str, keras.Operation]] | None = None
) -> Any:
    """A predicate on layer paths: does every input-to-output path go through the layer?

    True for a block output (ResNet's `conv5_block3_out`, InceptionV3's `mixed7`, the
    `Add` of a residual), False for a layer inside a branch that the computation can go
    around (an Inception branch, the residual branch before its `Add`). Each enclosing
    model must be on its parent's main path too. Models without a graph (Sequential,
    subclassed) count every layer as on the main path.

    Args:
        model: A Keras model.
        paths: Its `layer_paths(model)`, default `None` (listed here).

    Returns:
        Callable `path -> bool` on the paths of `layer_paths(model)`.

    Example:
        >>> on_main = main_path_filter(keras.applications.ResNet50(weights=None))
        >>> on_main("conv5_block3_out"), on_main("conv5_block3_3_conv")  # a residual branch
        (True, False)
    """
    objects = dict(paths if paths is not None else layer_paths(model))
    cuts: dict[int, set[int] | None] = {}

    def cut_ids(container):
        if id(container) not in cuts:
            cuts[id(container)] = _cut_operations(container)
        return cuts[id(container)]

    def on_main_path(path: str) -> bool:
        container, parts = model, path.split("/")
        for depth in range(len(parts)):
            child = objects.get("/".join(parts[: depth + 1]))
            ids = cut_ids(container)
            if child is None or (ids is not None and id(child) not in ids):
                return False
            container = child
        return True

    return on_main_path


def _cut_operations(container):
    """Ids of the operations of a Functional model that every input-to-output path crosses.

    In call (topological) order, an operation is crossed by every path exactly when no
    edge of the graph jumps over it (from an earlier operation to a later one). The
    inputs feed the edges from a source before the first operation, the outputs the
    edges to a sink after the last. `None` for a model without a graph.
    """
    edges = graph_edges(container)
    if edges is None:
        return None
    operations = children(container)
    position = {id(op): i for i, op in enumerate(operations)}
    jumps = [0] * (len(operations) + 1)
    for producer, consumer in edges:
        start = -1 if producer is None else position.get(id(producer))
        end = len(operations) if consumer is None else position.get(id(consumer))
        if start is None or end is None:
            return None  # an operation outside the listed ones: no claim
        if end - start > 1:
            jumps[start + 1] += 1
            jumps[end] -= 1
    crossed, running = set(), 0
    for i, op in enumerate(operations):
        running += jumps[i]
        if running == 0:
            crossed.add(id(op))
    return crossed


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
