"""Adapters over private Keras behaviour: shadowing a call, logits, input shapes, graphs.

Each Keras internal that tfxai relies on sits behind one function here, held by a test in
tests/test_private_apis.py that fails loudly if Keras changes it (the fourth, the autocast
of an integer input, is behind `tfxai.pixels.float_pixels`, which walks the model's layers):

- `Layer.__call__` and `Operation.__call__` (the `Add` of a Functional model's `x + y`)
  look `call` up on the instance (so an instance attribute shadows it): `shadow_calls`.
- softmax/sigmoid results carry `_keras_logits`, their input: `to_logits` (the traced
  Softmax/Sigmoid op is the fallback).
- a subclassed model built by a call records `_build_shapes_dict`: `model_input_shape`.
- a Functional model keeps its graph in `_nodes_by_depth` (nodes with `operation`,
  `is_input`, `parent_nodes`), its outputs' producers in `_keras_history`: `graph_edges`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import keras
import tensorflow as tf

from tfxai import heads

# Held while any layer's `call` is shadowed (i.e. while tfxai traces a graph): another
# thread tracing the same model meanwhile would otherwise see this thread's hook. Tracing
# is rare (once per shape and target structure); compiled graphs run without it.
TRACE_LOCK = threading.RLock()
_NOTHING = object()


@contextlib.contextmanager
def shadow_calls(
    layers: Iterable[keras.layers.Layer],
    on_output: Callable[[keras.layers.Layer, Any], Any] | None = None,
    *,
    on_inputs: Callable[[tuple, dict], tuple[tuple, dict]] | None = None,
) -> Iterator[None]:
    """Shadows each layer's `call` while the block runs, then removes every shadow.

    Holds `TRACE_LOCK` meanwhile, so no other thread traces through a shadowed layer.

    Args:
        layers: Layers whose calls to see.
        on_output: Callable `(layer, output) -> output`, default `None` (keep the output);
            its return value replaces the layer's output (return it unchanged to only
            observe).
        on_inputs: Callable `(args, kwargs) -> (args, kwargs)`, default `None`: what the
            layer's `call` receives instead of its arguments.

    Yields:
        None.
    """
    on_output = on_output or (lambda layer, output: output)
    shadowed = []
    with TRACE_LOCK:
        try:
            for layer in layers:
                shadowed.append((layer, _shadow(layer, on_output, on_inputs)))
            yield
        finally:
            for layer, previous in reversed(shadowed):
                if previous is _NOTHING:
                    object.__delattr__(layer, "call")
                else:  # another tool left its own instance `call`: hand it back untouched
                    object.__setattr__(layer, "call", previous)


def _shadow(layer, on_output, on_inputs=None):
    """Sets the shadowing `call` on `layer`; returns what its instance `call` was.

    Shadows stack: a layer already shadowed (by an enclosing `shadow_calls`) gets the new
    shadow around the old one, and each block hands back what it found.
    """
    previous = vars(layer).get("call", _NOTHING)
    original = layer.call

    def call(*args, **kwargs):
        if on_inputs is not None:
            args, kwargs = on_inputs(args, kwargs)
        return on_output(layer, original(*args, **kwargs))

    object.__setattr__(layer, "call", call)
    return previous


def to_logits(tensor: tf.Tensor) -> tf.Tensor:
    """The pre-activation logits behind a softmax/sigmoid output, else the tensor itself.

    Keras 3 keeps `_keras_logits` on softmax/sigmoid results; in a traced graph the
    Softmax/Sigmoid op is also found through Identity/Cast ops. The model is not changed.

    Args:
        tensor: A model output (inside a trace, or eager).

    Returns:
        The logits tensor, or `tensor` when it is not a softmax/sigmoid result.
    """
    logits = getattr(tensor, "_keras_logits", None)
    if logits is not None:
        return logits
    op = heads.probability_op(tensor)
    return tensor if op is None else op.inputs[0]


def model_input_shape(model: keras.Model) -> tuple | None:
    """The shape of the model's (first) input, also for a subclassed model built by a call.

    Args:
        model: A Keras model.

    Returns:
        The shape as a tuple (batch axis first), or `None` when it is not known yet.
    """
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        pass
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    for shape in shapes.values():
        return tuple(shape)
    return None


def graph_edges(
    model: keras.Model,
) -> list[tuple[keras.Operation | None, keras.Operation | None]] | None:
    """The edges `(producer, consumer)` between the operations of a Functional model.

    `None` as the producer stands for the model's inputs (an edge into each input layer),
    as the consumer for its outputs (an edge from each operation that makes one).

    Args:
        model: A Keras model.

    Returns:
        The list of edges, or `None` for a model without a graph (Sequential, subclassed).
    """
    nodes = getattr(model, "_nodes_by_depth", None)
    if not isinstance(nodes, dict):
        return None
    edges: list[tuple[keras.Operation | None, keras.Operation | None]] = []
    for group in nodes.values():
        for node in group:
            if node.is_input:
                edges.append((None, node.operation))
            for parent in node.parent_nodes:
                edges.append((parent.operation, node.operation))
    for tensor in model.outputs:
        edges.append((tensor._keras_history.operation, None))
    return edges
