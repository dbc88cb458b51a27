"""The gradient engine: one compiled `tf.GradientTape` pass through a model.

One tape pass yields the target scores, the chosen layer's activations and their
gradients. The pass is compiled with `tf.function` into one concrete function per
(target structure, image shape), with a free batch axis, so repeated calls never retrace.

Capture works on Sequential, Functional, nested (a model used as a layer) and subclassed
models alike: while the graph is traced, the chosen layer's `call` is shadowed by an
instance attribute that records its output and hands it on unchanged; the shadow is removed
in a `finally` before tracing returns. Compiled graphs then run without any Python on the
model. Nothing is cloned, no weight or attribute is left changed.

The engine is built on modules that each hold one idea, and re-exports their names, so
`tfxai.engine.resolve_layer` and the others keep working: `tfxai.layer_lookup` (layer
resolution), `tfxai.outputs` (which output is scored), `tfxai.keras_private` and
`tfxai.pixels` (the adapters over Keras internals).

Keras internals relied on, each behind one function and each held by a test in
tests/test_private_apis.py that fails loudly if Keras changes it:

- `Layer.__call__` looks `call` up on the instance (so an instance attribute shadows it):
  `shadow_calls` (in `tfxai.keras_private`).
- softmax/sigmoid results carry `_keras_logits`, their input: `to_logits` (the traced
  Softmax/Sigmoid op is the fallback; in `tfxai.keras_private`).
- a subclassed model built by a call records `_build_shapes_dict`: `_model_input_shape`
  (`tfxai.keras_private.model_input_shape`).
- `Layer.__call__` autocasts an integer model input to float (a Cast op) before `call`:
  `float_pixels` swaps the float pixels in there (in `tfxai.pixels`).
- a Functional model keeps its graph in `_nodes_by_depth` and its outputs' producers in
  `_keras_history`: `graph_edges` (in `tfxai.keras_private`; the layer lookup's "every
  path goes through it" test), and an `Operation` (`x + y`, not a layer) is called
  through its instance `call` too, so `shadow_calls` captures it.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf

# Re-exported: the engine's names as they were before the split (`engine.resolve_layer`, ...).
from tfxai import backend, heads
from tfxai.keras_private import TRACE_LOCK, shadow_calls, to_logits
from tfxai.keras_private import model_input_shape as _model_input_shape  # noqa: F401
from tfxai.layer_lookup import last_spatial_layer, layer_path, layer_paths, resolve_layer
from tfxai.model_inputs import image_input, model_call_inputs
from tfxai.outputs import output_index as _output_index
from tfxai.outputs import select_output
from tfxai.pixels import float_pixels, integer_input

if TYPE_CHECKING:
    from tfxai.targets import Target

backend.check(keras.backend.backend())

__all__ = [
    "COMPILED_PER_ENGINE",
    "TRACE_LOCK",
    "Engine",
    "float_pixels",
    "integer_input",
    "last_spatial_layer",
    "layer_path",
    "layer_paths",
    "resolve_layer",
    "select_output",
    "shadow_calls",
    "to_logits",
    "user_error",
]

COMPILED_PER_ENGINE = 32  # concrete functions kept per engine (least recently used go)


def user_error(err: Exception) -> Exception:
    """The error raised while tracing, without autograph's "in user code:" frame dump.

    Autograph re-raises an error from a traced function with a dozen lines of converted
    frames before the message; the message (its last `Type: ...` part) is what a user
    needs, so it comes back alone, as the same exception type.
    """
    text = str(err)
    if "in user code:" not in text:
        return err
    message = text.rsplit(f"{type(err).__name__}: ", 1)[-1].strip()
    try:
        return type(err)(message)
    except TypeError:  # an exception type with another constructor: keep it as it was
        return err


class Engine:
    """One compiled `tf.GradientTape` pass through a model, capturing one layer.

    Args:
        model: A Keras model. Never cloned, never changed.
        layer: Layer reference for `resolve_layer`, default `None` (the last 4-D layer).
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the pre-activation logits when the chosen
            output ends in a softmax or sigmoid.
        capture: Boolean, default `True`. Resolve `layer` for capture; `False` builds an
            engine for input gradients and scores only (`layer` is ignored and every pass
            runs with `capture=False`), for models without any 4-D layer too.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (`tfxai.model_inputs.image_input`); the other inputs then come with each
            pass's parameters (`tfxai.model_inputs.with_inputs`).

    Attributes:
        layer: The resolved layer (`None` without capture). `layer_path`: its path in the
            model.
        image_input: The image input's name for a model with several inputs, else `None`.
        traces: Integer, how many graphs were traced so far (for no-retrace checks).

    Example:
        >>> engine = Engine(tfxai.models.load("shapes-classifier"), layer="block4_out")
        >>> engine.layer_path, engine.traces
        ('block4_out', 0)
    """

    def __init__(
        self,
        model: keras.Model,
        layer: Any = None,
        output: int | str | None = None,
        logits: bool = True,
        *,
        capture: bool = True,
        input: int | str | None = None,
    ) -> None:
        if not isinstance(model, keras.Model):
            raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}.")
        self.model = model
        self.image_input = image_input(model, input)
        self.layer = resolve_layer(model, layer) if capture else None
        self.layer_path = layer_path(model, self.layer) if capture else None
        self.output = _output_index(model, output)
        self.logits = logits
        self.traces = 0
        self.output_shape: tuple | None = None
        self.head: str | None = None
        self.binary = False
        self.layer_shape: tuple | None = None
        self._compiled: collections.OrderedDict[tuple, Callable] = collections.OrderedDict()

    def scores_and_outputs(
        self,
        inputs: tf.Tensor,
        target: Target,
        params: Any,
        *,
        capture: bool = True,
        watch: Sequence[tf.Tensor] = (),
        replace: Callable[[tf.Tensor], tf.Tensor] | None = None,
    ) -> tuple[tf.GradientTape, tf.Tensor, tf.Tensor | None]:
        """Runs the model under a tape (inside a traced function).

        Args:
            inputs: Batch tensor.
            target: A `Target`.
            params: Its bound parameters for this batch (tensors).
            capture: Boolean, default True. Record and watch the layer's activations.
            watch: Extra tensors to watch (e.g. the inputs).
            replace: Optional callable `activations -> activations` applied to the layer's
                output before the rest of the model sees it (ablation).

        Returns:
            `(tape, scores, activations)`: the tape, `(batch,)` float32 scores and the layer
            output (or `None`).
        """
        if capture and self.layer is None:
            raise ValueError(
                "layer: this engine was built with capture=False; it has no layer to capture."
            )
        seen: dict[str, Any] = {}

        def on_output(layer, value):
            seen["calls"] = seen.get("calls", 0) + 1
            if not isinstance(value, tf.Tensor):
                raise ValueError(
                    f"layer: {self.layer_path!r} returns "
                    f"{type(value).__name__}, expected a single tensor."
                )
            tape.watch(value)
            if replace is not None:
                value = replace(value)
                tape.watch(value)
            seen["activations"] = value
            return value

        with tf.GradientTape(watch_accessed_variables=False, persistent=False) as tape:
            for tensor in watch:
                tape.watch(tensor)
            with shadow_calls([self.layer] if capture else [], on_output):
                outputs = self.run_model(inputs, params)
            scores = target.score(self.scored(outputs), params)
        activations = seen.get("activations")
        if seen.get("calls", 0) > 1:
            raise ValueError(
                f"layer: {self.layer_path!r} is called {seen['calls']} times in one forward "
                f"pass (a shared layer, e.g. a siamese branch), so its activations are "
                f"ambiguous; choose a layer that is called once (one that is not shared, or "
                f"the output of each branch)."
            )
        if capture and activations is None:
            raise ValueError(
                f"layer: {self.layer_path!r} was not called when the model ran; "
                f"choose a layer on the path from the inputs to the outputs."
            )
        if activations is not None:
            self.layer_shape = tuple(activations.shape)
        return tape, scores, activations

    def run_model(self, pixels: tf.Tensor, params: Any) -> Any:
        """The model's outputs on float `pixels` (inside a trace), with gradients to them.

        Integer-input models get the float pixels past their cast (`float_pixels`); a model
        with several inputs gets its other inputs from `params` (`with_inputs` targets).

        Args:
            pixels: Float tensor, the image batch.
            params: The pass's target parameters.

        Returns:
            What the model returns.
        """
        with float_pixels(self.model, pixels, self.image_input) as fed:
            if self.image_input is not None:
                fed = model_call_inputs(self.model, self.image_input, fed, params)
            return self.model(fed, training=False)

    def scored(self, outputs: Any) -> tf.Tensor:
        """What targets score, from the model's outputs (inside a trace).

        That is the chosen output, as logits unless `logits=False`, float32, a single binary
        logit `z` as the two class scores `[-z, z]` (see `tfxai.heads`). Records `head`,
        `binary` and `output_shape` for the checks and the probabilities.

        Args:
            outputs: What the model returned (a tensor, list or dict).

        Returns:
            float32 tensor `(B, K)` or `(B, H, W, K)`.
        """
        selected = select_output(outputs, self.output, self.model.name)
        self.head = heads.head_of(selected)
        if self.logits:
            selected = to_logits(selected)
        selected = tf.cast(selected, tf.float32)
        self.binary = heads.is_binary(tuple(selected.shape))
        if self.binary:
            probability = not self.logits and self.head == "sigmoid"
            selected = heads.two_classes(selected, probability)
        self.output_shape = tuple(selected.shape)
        return selected

    def check_target(self, target: Target, batch: int) -> None:
        """Checks `target` against the output shape before any tracing, when it is known.

        The shape is known when an earlier trace saw it or a Functional model declares it,
        so a target that does not fit fails with its own message rather than inside a trace.

        Args:
            target: A `Target`.
            batch: Integer, the batch size.

        Raises:
            ValueError: If the target does not fit the output.
        """
        shape = self.output_shape
        if shape is None:
            try:
                shape = tuple(
                    select_output(list(self.model.outputs), self.output, self.model.name).shape
                )
            except (AttributeError, ValueError, TypeError, KeyError):
                return  # not declared (subclassed): checked after the first trace
            if heads.is_binary(shape):
                shape = shape[:-1] + (2,)  # scored as two classes
        target.check(shape, batch)

    def compile(
        self, name: Any, fn: Callable[[tf.Tensor, Any], Any], inputs: Any, params: Any
    ) -> Callable:
        """Returns the concrete function `fn(inputs, params)` for these shapes, tracing once.

        The batch axis of `inputs` and of every parameter array is left free, so all batch
        sizes share one graph.

        Args:
            name: Hashable, what `fn` computes (part of the cache key).
            fn: Callable `(inputs, params) -> results`, traced once per shape.
            inputs: Batch array or tensor (its shape and dtype make the signature).
            params: Nested structure of per-sample parameter arrays.

        Returns:
            The concrete function.

        Raises:
            ValueError, TypeError: What tracing raised, without autograph's frame dump.
        """
        key = (
            name,
            tuple(inputs.shape[1:]),
            tuple((tuple(p.shape[1:]), p.dtype) for p in tf.nest.flatten(params)),
        )
        with TRACE_LOCK:
            return self._compile(key, fn, inputs, params)

    def _compile(self, key, fn, inputs, params):
        if key in self._compiled:
            self._compiled.move_to_end(key)
        else:

            def traced(x, p):
                self.traces += 1
                return fn(x, p)

            specs = tf.nest.map_structure(
                lambda a: tf.TensorSpec((None,) + tuple(a.shape[1:]), tf.as_dtype(a.dtype)),
                (inputs, params),
            )
            try:
                self._compiled[key] = tf.function(traced).get_concrete_function(*specs)
            except (ValueError, TypeError) as err:
                raise user_error(err) from None
            while len(self._compiled) > COMPILED_PER_ENGINE:
                self._compiled.popitem(last=False)
        return self._compiled[key]
