"""The gradient engine: layer resolution, capture of inner activations, the compiled tape.

One `tf.GradientTape` pass yields the target scores, the chosen layer's activations and
their gradients. The pass is compiled with `tf.function` into one concrete function per
(target structure, image shape), with a free batch axis, so repeated calls never retrace.

Capture works on Sequential, Functional, nested (a model used as a layer) and subclassed
models alike: while the graph is traced, the chosen layer's `call` is shadowed by an
instance attribute that records its output and hands it on unchanged; the shadow is removed
in a `finally` before tracing returns. Compiled graphs then run without any Python on the
model. Nothing is cloned, no weight or attribute is left changed.

Keras internals relied on, each behind one function here and each held by a test in
tests/test_private_apis.py that fails loudly if Keras changes it:

- `Layer.__call__` looks `call` up on the instance (so an instance attribute shadows it):
  `shadow_calls`.
- softmax/sigmoid results carry `_keras_logits`, their input: `to_logits` (the traced
  Softmax/Sigmoid op is the fallback).
- a subclassed model built by a call records `_build_shapes_dict`: `_model_input_shape`.
- `Layer.__call__` autocasts an integer model input to float (a Cast op) before `call`:
  `float_pixels` swaps the float pixels in there.
"""

import collections
import contextlib
import difflib
import threading
import warnings

import keras
import numpy as np
import tensorflow as tf

from tfxai import heads

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"tfxai needs the TensorFlow backend of Keras 3, but keras.backend.backend() is "
        f"{keras.backend.backend()!r}. Set the environment variable KERAS_BACKEND=tensorflow "
        f"before importing keras (e.g. `export KERAS_BACKEND=tensorflow`)."
    )

# Held while any layer's `call` is shadowed (i.e. while tfxai traces a graph): another
# thread tracing the same model meanwhile would otherwise see this thread's hook. Tracing
# is rare (once per shape and target structure); compiled graphs run without it.
TRACE_LOCK = threading.RLock()
COMPILED_PER_ENGINE = 32  # concrete functions kept per engine (least recently used go)
_NOTHING = object()


# --------------------------------------------------------------------------- layers


def _children(layer):
    """Direct sub-layers of a model or layer (`[]` for leaves)."""
    try:
        return list(layer.layers) if isinstance(layer, keras.Model) else []
    except AttributeError:
        return []


def layer_paths(model):
    """Lists `(path, layer)` for every layer of `model`, depth first, nested models included.

    Args:
        model: A Keras model.

    Returns:
        List of `("outer/inner", layer)` pairs in call order.
    """
    found = []

    def walk(container, prefix):
        for child in _children(container):
            path = f"{prefix}{child.name}"
            found.append((path, child))
            walk(child, path + "/")

    walk(model, "")
    return found


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


def resolve_layer(model, ref=None):
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
        layers = _children(model)
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


def layer_path(model, layer):
    """The path of `layer` inside `model` (e.g. `"resnet50/conv5_block3_out"`)."""
    for path, candidate in layer_paths(model):
        if candidate is layer:
            return path
    return layer.name


def _static_shape(layer):
    """The layer's output shape, `()` for a non-tensor output, `None` when not declared."""
    try:
        output = layer.output
    except (AttributeError, ValueError, RuntimeError):
        return None
    if isinstance(output, (list, tuple, dict)):
        return ()
    return tuple(output.shape)


def last_spatial_layer(model):
    """The last layer (deepest first, in call order) with a 4-D output larger than 1x1.

    Layers whose map is 1x1 (the convolutions after a global pool, as in MobileNet's top,
    or any layer of a small input) give constant maps, so they are passed over; when every
    4-D layer is 1x1, the last is returned with a warning.

    Raises:
        ValueError: If the model has no layer with a 4-D output.
    """
    paths = layer_paths(model)
    shapes = {id(layer): _static_shape(layer) for _, layer in paths}
    unknown = [layer for _, layer in paths if shapes[id(layer)] is None]
    if unknown:
        shapes.update(_probe_shapes(model, unknown))
    spatial = [
        (path, layer)
        for path, layer in paths
        if len(shapes[id(layer)] or ()) == 4 and not _children(layer)
    ]
    if not spatial:
        raise ValueError(
            f"layer: model {model.name!r} has no layer with a 4-D "
            f"(batch, height, width, channels) output; pass `layer=` explicitly."
        )
    extended = [(path, layer) for path, layer in spatial if tuple(shapes[id(layer)][1:3]) != (1, 1)]
    if extended:
        return extended[-1][1]
    warnings.warn(
        f"layer: every 4-D layer of model {model.name!r} is 1x1 at this input size, "
        f"so the maps are constant; using {spatial[-1][0]!r}. Use larger inputs or "
        f"pass `layer=` explicitly.",
        UserWarning,
        stacklevel=3,
    )
    return spatial[-1][1]


def _probe_shapes(model, layers):
    """Output shapes of `layers` found by tracing (not running) the model once."""
    shapes = {}
    shape = _model_input_shape(model)
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


def _model_input_shape(model):
    try:
        return tuple(model.inputs[0].shape)
    except (AttributeError, IndexError, TypeError, ValueError):
        pass
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    for shape in shapes.values():
        return tuple(shape)
    return None


# --------------------------------------------------------------------------- capture


@contextlib.contextmanager
def shadow_calls(layers, on_output=None, *, on_inputs=None):
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


def integer_input(model):
    """The integer dtype of the model's input (`tf.uint8`, ...), or `None` for a float one."""
    try:
        dtype = tf.as_dtype(model.inputs[0].dtype)
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return dtype if dtype.is_integer else None


def _comes_from(tensor, source):
    """Whether `tensor` is `source` behind only Cast/Identity ops (inside one trace)."""
    while isinstance(tensor, tf.Tensor) and hasattr(tensor, "op"):
        if tensor.name == source.name:
            return True
        if tensor.op.type not in ("Cast", "Identity") or not tensor.op.inputs:
            return False
        tensor = tensor.op.inputs[0]
    return False


@contextlib.contextmanager
def float_pixels(model, pixels):
    """Feeds float `pixels` past the cast of a model whose input is an integer tensor.

    A model built on `keras.Input(dtype="uint8")` (rescaling inside) turns the pixels into
    integers, which carry no gradient, so every gradient with respect to the pixels would
    be zero. Inside this block the model is called on that integer tensor, and every layer
    receiving it (Keras casts it back to float for the layer) gets the float `pixels`
    instead: the same values for integer-valued images, with their gradient. For float
    input models the block does nothing. Call it inside a trace.

    Args:
        model: The Keras model.
        pixels: Float tensor `(B, H, W, C)`, the images.

    Yields:
        The tensor to call the model with.
    """
    dtype = integer_input(model)
    if dtype is None:
        yield pixels
        return
    fed = tf.cast(pixels, dtype)

    def swap(value):
        if isinstance(value, tf.Tensor) and value.dtype.is_floating and _comes_from(value, fed):
            return tf.cast(pixels, value.dtype)
        return value

    def on_inputs(args, kwargs):
        return tuple(swap(a) for a in args), {k: swap(v) for k, v in kwargs.items()}

    leaves = [layer for _, layer in layer_paths(model) if not _children(layer)]
    with shadow_calls(leaves, on_inputs=on_inputs):
        yield fed


def select_output(outputs, output, model_name="model"):
    """Picks one output of a (possibly multi-output) model.

    Args:
        outputs: What the model returned: a tensor, a list/tuple or a dict.
        output: Integer index or string name/key, or `None` for a single-output model.
        model_name: String, used in error messages.

    Returns:
        A tensor.

    Raises:
        ValueError: For a multi-output model without `output=`, or an unknown output.
    """
    if isinstance(outputs, dict):
        names = list(outputs)
        if output is None and len(names) == 1:
            return outputs[names[0]]
        if output in outputs:
            return outputs[output]
        if isinstance(output, int) and -len(names) <= output < len(names):
            return outputs[names[output]]
        raise ValueError(
            f"output: model {model_name!r} has outputs {names}; pass output= "
            f"one of these names or an index, got {output!r}."
        )
    if isinstance(outputs, (list, tuple)):
        if output is None and len(outputs) == 1:
            return outputs[0]
        if isinstance(output, int) and -len(outputs) <= output < len(outputs):
            return outputs[output]
        raise ValueError(
            f"output: model {model_name!r} has {len(outputs)} outputs; pass "
            f"output= an index in [0, {len(outputs) - 1}], got {output!r}."
        )
    if output not in (None, 0, -1):
        raise ValueError(
            f"output: model {model_name!r} has a single output; got output={output!r}."
        )
    return outputs


def _output_index(model, output):
    """Turns an output name of a Functional model into its index."""
    if isinstance(output, str) and not isinstance(getattr(model, "output", None), dict):
        names = list(getattr(model, "output_names", None) or [])
        if output in names:
            return names.index(output)
        if not names:
            raise ValueError(
                f"output: model {model.name!r} has no named outputs; got "
                f"{output!r} (pass None for a single output, or an index)."
            )
        raise ValueError(f"output: model {model.name!r} has outputs {names}; got {output!r}.")
    return output


def to_logits(tensor):
    """The pre-activation logits behind a softmax/sigmoid output, else the tensor itself.

    Keras 3 keeps `_keras_logits` on softmax/sigmoid results; in a traced graph the
    Softmax/Sigmoid op is also found through Identity/Cast ops. The model is not changed.
    """
    logits = getattr(tensor, "_keras_logits", None)
    if logits is not None:
        return logits
    op = heads.probability_op(tensor)
    return tensor if op is None else op.inputs[0]


# --------------------------------------------------------------------------- engine


def user_error(err):
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

    Attributes:
        layer: The resolved layer (`None` without capture). `layer_path`: its path in the
            model.
        traces: Integer, how many graphs were traced so far (for no-retrace checks).
    """

    def __init__(self, model, layer=None, output=None, logits=True, *, capture=True):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}.")
        self.model = model
        self.layer = resolve_layer(model, layer) if capture else None
        self.layer_path = layer_path(model, self.layer) if capture else None
        self.output = _output_index(model, output)
        self.logits = logits
        self.traces = 0
        self.output_shape = None
        self.head = None
        self.binary = False
        self.layer_shape = None
        self._compiled = collections.OrderedDict()

    def scores_and_outputs(self, inputs, target, params, *, capture=True, watch=(), replace=None):
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
        seen = {}

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
            with (
                float_pixels(self.model, inputs) as fed,
                shadow_calls([self.layer] if capture else [], on_output),
            ):
                outputs = self.model(fed, training=False)
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

    def scored(self, outputs):
        """What targets score, from the model's outputs (inside a trace): the chosen output,
        as logits unless `logits=False`, float32, a single binary logit `z` as the two
        class scores `[-z, z]` (see `tfxai.heads`). Records `head`, `binary` and
        `output_shape` for the checks and the probabilities."""
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

    def check_target(self, target, batch):
        """Checks `target` against the output shape before any tracing, when it is known
        (seen by an earlier trace, or declared by a Functional model), so a target that
        does not fit fails with its own message rather than inside a trace."""
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

    def compile(self, name, fn, inputs, params):
        """Returns the concrete function `fn(inputs, params)` for these shapes, tracing once.

        The batch axis of `inputs` and of every parameter array is left free, so all batch
        sizes share one graph.
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
