"""Input checking shared by every explainer (the batching itself is `tfxai.batches`).

Explainers accept numpy arrays, `tf.Tensor`s and `tf.data.Dataset`s of image batches.
Bad input fails here, with the argument named, before anything reaches TensorFlow. The
checks of plain arguments (counts, sizes, seeds, flags) are `tfxai.arguments`, re-exported
here where the package looks them up.
"""

from __future__ import annotations

import uuid
from os import PathLike
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

# Re-exported: `inputs.positive_int`, `inputs.check_bool`, ... as before the split.
from tfxai.arguments import (
    check_bool,
    check_seed,
    int_pair,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    unit_interval,
)
from tfxai.model_inputs import declared_inputs

__all__ = [
    "as_image_batch",
    "as_numeric_array",
    "check_bool",
    "check_dataset",
    "check_model",
    "check_not_model",
    "check_seed",
    "expected_image_shape",
    "image_rank",
    "int_pair",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "refuse_booleans",
    "slice_params",
    "unit_interval",
    "writable_folder",
]


def expected_image_shape(model: keras.Model, input: str | None = None) -> tuple | None:
    """The `(H, W, C)` (or `(D, H, W, C)`) the model declares for its input (entries may
    be `None`).

    Args:
        model: A Keras model.
        input: String or `None` (default). The image input's name, for a model with
            several inputs (`tfxai.model_inputs.image_input`).

    Raises:
        ValueError: If the model has several inputs and `input` is `None`.
    """
    declared = dict(declared_inputs(model))
    if not declared:
        return None
    if input is not None:
        return tuple(declared[input].shape[1:])
    if len(declared) > 1:
        raise ValueError(
            f"model: {model.name!r} has {len(declared)} inputs; this function explains "
            f"single-input image models (the explainers take several inputs with `input=`, "
            f"e.g. tfxai.grad_cam(model, (images, table), input='image'))."
        )
    return tuple(next(iter(declared.values())).shape[1:])


def as_numeric_array(value: Any, name: str) -> np.ndarray:
    """A numeric numpy array (tensors converted), or a `TypeError` naming `name`."""
    if isinstance(value, tf.Tensor):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name}: expected a numeric array, got {type(value).__name__} ({err})."
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a numeric array, got dtype {array.dtype}.")
    return array


#: The axes of an image batch and of a volume batch, by rank (what the errors show).
AXES = {
    4: "(batch, height, width, channels)",
    5: "(batch, depth, height, width, channels)",
}


def image_rank(model: keras.Model, given: int | None = None, input: str | None = None) -> int:
    """The rank of the batches `model` takes: 5 for volumes, 4 for images.

    A model that declares a 5-D input takes volumes `(B, D, H, W, C)`; one that declares
    any other input takes images `(B, H, W, C)`. A model without a declared input
    (subclassed) takes what it is given: `given` when it is 4 or 5, else 4.

    Args:
        model: A Keras model.
        given: Integer or `None`, default `None`. The rank of the batch being checked.
        input: String or `None` (default). The image input's name, for a model with
            several inputs.

    Returns:
        Integer, 4 or 5.
    """
    expected = expected_image_shape(model, input)
    if expected is not None:
        return 5 if len(expected) == 4 else 4
    return given if given in (4, 5) else 4


def as_image_batch(
    inputs: Any, model: keras.Model, name: str = "inputs", input: str | None = None
) -> np.ndarray:
    """Checks a batch of images (or volumes) and returns it as a float32 numpy array.

    Images are `(B, H, W, C)`; a model with a 5-D input takes volumes `(B, D, H, W, C)`
    (CT, MRI), and a subclassed model without a declared input takes either.

    Args:
        inputs: Array-like or `tf.Tensor` of shape `(B, H, W, C)` or, for a model with a
            5-D input, `(B, D, H, W, C)`.
        model: The Keras model the images are for (its declared input shape is checked).
        name: String, default "inputs". The argument name used in error messages.
        input: String or `None` (default). The image input's name, for a model with
            several inputs.

    Returns:
        A float32 C-contiguous numpy array.

    Raises:
        TypeError: If `inputs` is not numeric.
        ValueError: On a wrong rank, channel count or image size, an empty batch, or
            NaN/Inf values.
    """
    expected = expected_image_shape(model, input)  # first: refuses several inputs clearly
    array = refuse_booleans(as_numeric_array(inputs, name), name)
    rank = image_rank(model, array.ndim, input)
    if array.ndim != rank:
        raise ValueError(_rank_error(array.shape, rank, expected, model, name))
    if array.shape[0] == 0:
        raise ValueError(
            f"{name}: the batch is empty (shape {array.shape}); expected at least one image."
        )
    if expected is not None:
        axes = ("depth", "height", "width", "channels")[5 - rank :]
        for axis, (got, want) in enumerate(zip(array.shape[1:], expected)):
            if want is not None and got != want:
                kind = "volumes" if rank == 5 else "images"
                raise ValueError(
                    f"{name}: model {model.name!r} expects {kind} of shape "
                    f"{tuple(expected)} but got {tuple(array.shape[1:])} ({axes[axis]} differ)."
                )
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ValueError(f"{name}: contains {bad} NaN or Inf values; expected finite pixels.")
    return array


def _rank_error(
    shape: tuple, rank: int, expected: tuple | None, model: keras.Model, name: str
) -> str:
    """The message for a batch of the wrong rank (`rank` is what the model takes, whose
    declared image shape is `expected`)."""
    declared = f" for model {model.name!r} (input {(None, *expected)})" if expected else ""
    kind = "volumes" if rank == 5 else "images"
    hint = ""
    if len(shape) == rank - 1:
        single = kind[:-1]
        hint = f" (a single {single}? pass inputs[None]; a dataset: dataset.batch(n))"
    elif len(shape) == 5:
        hint = " (volumes need a model with a 5-D input)"
    return (
        f"{name}: expected a batch of {kind} of shape {AXES[rank]}{declared}, got shape "
        f"{shape}{hint}."
    )


def check_dataset(
    dataset: tf.data.Dataset, name: str = "inputs", model: keras.Model | None = None
) -> tf.data.Dataset:
    """Refuses a dataset that would never end, and one whose elements are not batches.

    Args:
        dataset: A `tf.data.Dataset` of `x` or `(x, y, ...)` elements.
        name: String, default "inputs". The argument name used in error messages.
        model: Optional Keras model, default `None`. With it, an element of one rank less
            than the model's batches (a single volume for a 5-D model) is refused as
            unbatched; without, a 3-D element (a single image) is.

    Raises:
        ValueError: If `dataset` is infinite (`repeat()` without a count), or its
            elements are dicts or unbatched images (or volumes).
    """
    if int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY:
        raise ValueError(
            f"{name}: the dataset is infinite (e.g. .repeat() without a count) "
            f"and would never end; pass a finite one, e.g. dataset.take(n)."
        )
    spec = dataset.element_spec
    images = spec[0] if isinstance(spec, (tuple, list)) else spec
    if isinstance(images, dict) or not isinstance(images, tf.TensorSpec):
        raise ValueError(
            f"{name}: expected dataset elements `x` or `(x, y, ...)` with `x` a "
            f"batch of images, got elements of type {type(images).__name__}."
        )
    rank = 4 if model is None else image_rank(model, images.shape.rank)
    if images.shape.rank == rank - 1:
        kind = "volumes" if rank == 5 else "images"
        raise ValueError(
            f"{name}: the dataset yields single {kind} of shape "
            f"{tuple(images.shape)}; batch it first, e.g. dataset.batch(32)."
        )
    return dataset


def slice_params(params: Any, start: int, stop: int) -> Any:
    """Slices every per-sample parameter array along its batch axis."""
    return tf.nest.map_structure(lambda a: a[start:stop], params)


def refuse_booleans(array: np.ndarray, name: str) -> np.ndarray:
    """Returns `array` unless it is boolean: a mask is not an image.

    Raises:
        TypeError: If `array` has dtype bool, naming `name`.
    """
    if array.dtype == np.bool_:
        got = f"a boolean array of shape {array.shape}" if array.ndim else repr(array.item())
        raise TypeError(
            f"{name}: expected numeric values, got {got}; convert it first if "
            f"it really holds pixel values, e.g. {name}.astype('float32')."
        )
    return array


def check_model(model: Any, name: str = "model") -> keras.Model:
    """Checks that `model` is a built Keras 3 model; returns it.

    An unbuilt model (a Sequential without an `Input`, never called) has no weights yet:
    explaining it would create them, changing the model, and explain random weights.

    Raises:
        TypeError: If `model` is not a `keras.Model` (a tf.keras / Keras 2 model is named
            as such).
        ValueError: If the model is not built.
    """
    if not isinstance(model, keras.Model):
        got = type(model).__name__
        module = type(model).__module__ or ""
        hint = (
            f" from {module.split('.')[0]} (Keras 2 / tf.keras); tfxai needs a Keras 3 "
            f"model (import keras)"
            if module.startswith(("tf_keras", "tensorflow"))
            else ""
        )
        raise TypeError(f"{name}: expected a keras.Model, got {got}{hint}.")
    if not model.built:
        raise ValueError(
            f"{name}: {model.name!r} is not built (it has no weights "
            f"yet); give it an input shape (keras.Input) or call it once on a "
            f"batch, e.g. model(images[:1])."
        )
    return model


def check_not_model(inputs: Any, name: str = "inputs") -> Any:
    """Refuses a model passed where the images go (`GradCAM(model)(model, images)`).

    Raises:
        TypeError: If `inputs` is a Keras model, naming `name`.
    """
    if isinstance(inputs, keras.Model):
        raise TypeError(
            f"{name}: got the model {inputs.name!r}; an explainer instance "
            f"already holds its model: call it on the images, e.g. "
            f"GradCAM(model)(images, target)."
        )
    return inputs


def writable_folder(folder: str | PathLike, name: str) -> Path:
    """Creates `folder` (with its parents) and checks that a file can be written in it.

    Args:
        folder: String or path-like.
        name: String, the argument name used in error messages.

    Returns:
        The folder as a `pathlib.Path`.

    Raises:
        TypeError: If `folder` is not a path.
        ValueError: If the folder cannot be created or written: an existing file, a path
            under a file, no permission (the cause is named).
    """
    if not isinstance(folder, (str, Path)) and not hasattr(folder, "__fspath__"):
        raise TypeError(
            f"{name}: expected a folder path (str or os.PathLike), got {type(folder).__name__}."
        )
    folder = Path(folder)
    probe = folder / f".tfxai-probe-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ValueError(
            f"{name}: cannot write to {str(folder)!r} ({err.strerror or err}); "
            f"expected a folder that can be created and written."
        ) from None
    return folder
