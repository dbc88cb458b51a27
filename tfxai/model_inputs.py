"""Models with several inputs: which one is the image, and the others held fixed.

An image + metadata model (a Functional model on `[image, table]` or `{"image": ...,
"meta": ...}`) is explained for its image input: `input=` names it (by name or position;
inferred when exactly one input is an image, of rank 4 or 5), the call's `inputs` give every
input (a tuple/list in the model's order or a dict by name), and the other inputs are held
fixed at their given values. The maps are for the image input.

The other inputs travel with the target: `with_inputs(target, others)` is a target whose
per-sample parameters are `(target parameters, {name: array})`, so every explainer's
batching, per-row gathering and slicing carries them along without knowing about them, and
`Engine` (tfxai.engine) reads them back to call the model with every input.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.target_algebra import Target

__all__ = [
    "declared_inputs",
    "image_input",
    "model_call_inputs",
    "split_inputs",
    "with_inputs",
]


def declared_inputs(model: keras.Model) -> list[tuple[str, Any]]:
    """`(name, KerasTensor)` for each declared input of `model`, in the model's order.

    Names are the dict keys of a model built on a dict of inputs, else the input tensors'
    names (`keras.Input(name=...)`). A model that declares no inputs (subclassed) has none.

    Args:
        model: A Keras model.

    Returns:
        A list, empty when the inputs are not declared.

    Example:
        >>> names = [name for name, _ in declared_inputs(model)]
        >>> names[0], len(names)
        ('image', 2)
    """
    try:
        tensors = list(model.inputs or [])
    except (AttributeError, ValueError):
        return []
    try:
        structure = model.input
    except (AttributeError, ValueError):  # a Sequential built by `build()`: inputs only
        structure = None
    if isinstance(structure, dict):
        return list(structure.items())
    return [(tensor.name, tensor) for tensor in tensors]


def _describe(inputs: list[tuple[str, Any]]) -> str:
    return ", ".join(f"{name!r} {tuple(tensor.shape)}" for name, tensor in inputs)


def image_input(model: keras.Model, input: int | str | None = None) -> str | None:
    """The name of the input to explain, or `None` for a single-input model.

    Args:
        model: A Keras model.
        input: The image input: its name, its position, or `None` (default) for the only
            input of rank 4 (images) or 5 (volumes).

    Returns:
        The input's name for a model with several inputs; `None` when the model has one
        input (or does not declare its inputs) and `input` is `None` or names that input.

    Raises:
        ValueError: If `input` names no input, or is `None` and not exactly one input is an
            image; or `input` names an input of a model that declares none (subclassed).
        TypeError: If `input` is not a string, an int or `None`.

    Example:
        >>> image_input(model), image_input(model, 0)
        ('image', 'image')
    """
    if input is not None and (
        isinstance(input, bool) or not isinstance(input, (str, int, np.integer))
    ):
        raise TypeError(
            f"input: expected the name or position of a model input, got {type(input).__name__}."
        )
    declared = declared_inputs(model)
    if not declared and input is not None and input not in (0, -1):
        raise ValueError(
            f"input: model {model.name!r} does not declare its inputs (a subclassed model), "
            f"so input={input!r} cannot be found; build a Functional model on keras.Input()s "
            f"around it, e.g. keras.Model([image, table], model([image, table]))."
        )
    if len(declared) <= 1:
        if input is None or input in (0, -1) or (declared and input == declared[0][0]):
            return None
        raise ValueError(
            f"input: model {model.name!r} has a single input"
            f"{' ' + repr(declared[0][0]) if declared else ''}; got input={input!r}. Leave "
            f"it out (input=None) for a single-input model."
        )
    if input is None:
        images = [name for name, tensor in declared if len(tensor.shape) in (4, 5)]
        if len(images) == 1:
            return images[0]
        raise ValueError(
            f"input: model {model.name!r} has {len(declared)} inputs ({_describe(declared)}) "
            f"and {len(images) or 'none'} of them {'is' if len(images) == 1 else 'are'} an "
            f"image batch of rank 4 or 5; name the one to explain, e.g. "
            f"input={declared[0][0]!r}."
        )
    names = [name for name, _ in declared]
    if isinstance(input, str):
        if input in names:
            return input
        raise ValueError(
            f"input: model {model.name!r} has no input {input!r}; its inputs are "
            f"{_describe(declared)}."
        )
    if not -len(names) <= int(input) < len(names):
        raise ValueError(
            f"input: position {int(input)} is out of range for model {model.name!r} with "
            f"{len(names)} inputs ({_describe(declared)})."
        )
    return names[int(input)]


def split_inputs(
    inputs: Any, model: keras.Model, image: str, name: str = "inputs"
) -> tuple[Any, dict[str, np.ndarray]]:
    """Splits every input of a multi-input model into the image batch and the others.

    Args:
        inputs: A tuple or list with one array per model input, in the model's order, or a
            dict by input name (numpy arrays or tensors).
        model: The Keras model.
        image: String, the name of the image input (`image_input`).
        name: String, default "inputs". The argument name used in error messages.

    Returns:
        `(images, others)`: the image batch as given, and the other inputs as numpy arrays
        in their declared dtype, each with the same number of samples as the images.

    Raises:
        ValueError: If `inputs` does not give exactly the model's inputs, or their sample
            counts differ.
        TypeError: If `inputs` is a single array, or an input is not numeric.

    Example:
        >>> images, others = split_inputs((images, table), model, "image")
        >>> list(others) == ["meta"]
        True
    """
    declared = declared_inputs(model)
    names = [input_name for input_name, _ in declared]
    if isinstance(inputs, tf.data.Dataset):
        raise TypeError(
            f"{name}: model {model.name!r} has {len(names)} inputs; a tf.data.Dataset is not "
            f"taken for a model with several inputs: pass a tuple/list of {len(names)} arrays "
            f"in the model's order or a dict by name ({_describe(declared)}), batch by batch."
        )
    if isinstance(inputs, dict):
        given = dict(inputs)
        if sorted(given) != sorted(names):
            raise ValueError(
                f"{name}: model {model.name!r} takes the inputs {names}; got a dict with the "
                f"keys {sorted(map(str, given))}."
            )
    elif isinstance(inputs, (tuple, list)):
        if len(inputs) != len(names):
            raise ValueError(
                f"{name}: model {model.name!r} takes {len(names)} inputs "
                f"({_describe(declared)}); got a {type(inputs).__name__} of {len(inputs)}."
            )
        given = dict(zip(names, inputs))
    else:
        raise TypeError(
            f"{name}: model {model.name!r} has {len(names)} inputs ({_describe(declared)}); "
            f"expected a tuple/list of {len(names)} arrays in that order or a dict by name, "
            f"got {type(inputs).__name__}."
        )
    images = given.pop(image)
    count = len(images)
    others = {}
    for input_name, tensor in declared:
        if input_name == image:
            continue
        others[input_name] = _other_input(given[input_name], tensor, input_name, count, name)
    return images, others


def _other_input(value, tensor, input_name, count, name):
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: the input {input_name!r} must be numeric, got dtype {array.dtype}."
        )
    want = tuple(tensor.shape[1:])
    if array.ndim != len(want) + 1 or len(array) != count:
        raise ValueError(
            f"{name}: the input {input_name!r} must be an array of shape "
            f"{(count, *want)} (one row per image), got shape {array.shape}."
        )
    bad = [(got, w) for got, w in zip(array.shape[1:], want) if w is not None and got != w]
    if bad:
        raise ValueError(
            f"{name}: the input {input_name!r} expects rows of shape {want}, got "
            f"shape {array.shape}."
        )
    return np.ascontiguousarray(array, dtype=np.dtype(tensor.dtype))


def with_inputs(target: Target, others: dict[str, np.ndarray]) -> Target:
    """`target` carrying the fixed other inputs of its samples in its parameters.

    Args:
        target: A `Target`.
        others: Dict of numpy arrays (or tensors) with one row per sample.

    Returns:
        A `Target` whose `bind(n)` is `(target.bind(n), others)` (`n` must be the number of
        rows), scoring as `target` does; `inner` and `others` hold what it wraps.

    Example:
        >>> target = with_inputs(tfxai.targets.class_score(1), {"meta": table})
    """
    count = len(next(iter(others.values())))

    def bind(batch: int) -> Any:
        if batch != count:
            raise ValueError(
                f"inputs: the other model inputs give {count} rows, but {batch} images "
                f"are explained; give one row per image."
            )
        return (target.bind(batch), others)

    wrapped = Target(
        lambda outputs, params: target.score(outputs, params[0]),
        bind,
        key=("with_inputs", target.key, tuple(sorted(others))),
        check_fn=lambda shape, batch: target.check(shape, batch),
        name=target.name,
        batch=count,
    )
    wrapped.inner = target  # type: ignore[attr-defined]
    wrapped.others = others  # type: ignore[attr-defined]
    return wrapped


def model_call_inputs(model: keras.Model, image: str, pixels: tf.Tensor, params: Any) -> Any:
    """What to call `model` with: `pixels` as the image input, the others from `params`.

    Args:
        model: The Keras model (its declared input structure: a dict, list or tuple).
        image: String, the image input's name.
        pixels: The image batch tensor.
        params: The parameters of a `with_inputs` target, `(target params, others)`.

    Returns:
        The inputs in the model's own structure.

    Raises:
        ValueError: If `params` carry no other inputs (a function that does not take
            multi-input models).

    Example:
        >>> outputs = model(model_call_inputs(model, "image", pixels, params))
    """
    if not (isinstance(params, (tuple, list)) and len(params) == 2 and isinstance(params[1], dict)):
        raise ValueError(
            f"inputs: model {model.name!r} has several inputs; this function explains "
            f"single-input models only (the explainers take them: tfxai.grad_cam(model, "
            f"(images, table), input={image!r}))."
        )
    values = dict(params[1], **{image: pixels})
    structure = model.input
    if isinstance(structure, dict):
        return {key: values[key] for key in structure}
    return type(structure)(values[name] for name, _ in declared_inputs(model))
