"""Shared argument checks for `tfxai.metrics`: every error names the argument.

Metrics take saliency maps either precomputed, `(B, H, W)`, or as an explainer callable
`explainer(model, inputs, target=target) -> (B, H, W)`; both end up here as a checked
float32 array aligned with the checked inputs.
"""

from __future__ import annotations

import numbers
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import batches as batches_lib
from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai import targets as targets_lib
from tfxai._typing import Explainer, Images, TargetLike


def image_batch(
    inputs: Images, model: keras.Model, target: TargetLike | str = None, name: str = "inputs"
) -> tuple[np.ndarray, Any]:
    """Checked float32 images `(B, H, W, C)` from an array, a tensor or a dataset, and the
    target, with `"labels"` turned into the dataset's class ids (a list of ints).

    A `tf.data.Dataset` is read to the end and its batches concatenated: metrics align
    each image with its map, so they need the whole set at once. Its labels are read in
    the same pass, so a shuffled dataset stays aligned.

    Returns:
        `(images, target)`.
    """
    converted = targets_lib.to_target(target)
    wants_labels = converted.key == targets_lib.LABELS
    if not wants_labels and not isinstance(inputs, tf.data.Dataset):
        return _planar(inputs_lib.as_image_batch(inputs, model, name), name), target
    parts = list(batches_lib.target_batches(inputs, model, converted, 1 << 30, name))
    images = _planar(np.concatenate([batch for batch, _, _ in parts], axis=0), name)
    if wants_labels:
        target = [int(c) for _, _, params in parts for c in params[0]]
    return images, target


def _planar(images: np.ndarray, name: str) -> np.ndarray:
    """Refuses volumes `(B, D, H, W, C)`: the metrics rank, blur and mask 2-D pixels."""
    if images.ndim != 4:
        raise ValueError(
            f"{name}: the metrics support 2-D images (batch, height, width, channels) "
            f"only, got volumes of shape {images.shape}."
        )
    return images


def positive_int(value: Any, name: str, *, high: int | None = None, what: str = "") -> int:
    """Checks an integer >= 1 (and <= `high` when given) and returns it as an int."""
    ok = isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)
    if not ok or value < 1 or (high is not None and value > high):
        bound = f"in [1, {high}]" if high is not None else ">= 1"
        raise ValueError(f"{name}: expected an integer {bound}{what}, got {value!r}.")
    return int(value)


def as_float_array(value: Any, name: str) -> np.ndarray:
    """A numeric numpy array (tensors converted), or a `TypeError` naming `name`."""
    return inputs_lib.as_numeric_array(value, name)


def check_finite(array: np.ndarray, name: str) -> None:
    """Raises a `ValueError` naming `name` if `array` holds NaN or Inf."""
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ValueError(f"{name}: contains {bad} NaN or Inf values; expected finite values.")


def as_maps(maps: Any, shape: tuple[int, ...] | None = None, name: str = "maps") -> np.ndarray:
    """Checks saliency maps and returns them as float32 `(B, H, W)`.

    Args:
        maps: Array-like or tensor `(B, H, W)`.
        shape: Tuple `(B, H, W)` the maps must have (the inputs' batch and image size), or
            `None` to only check the rank.
        name: String, the argument name used in error messages.

    Raises:
        TypeError: If `maps` is not numeric.
        ValueError: On a wrong shape, an empty batch or NaN/Inf values.
    """
    array = as_float_array(maps, name)
    if array.ndim != 3 or (shape is not None and tuple(array.shape) != tuple(shape)):
        expected = f"{tuple(shape)}" if shape is not None else "(batch, height, width)"
        hint = ""
        if array.ndim == 4 and array.shape[-1] == 1:
            hint = " (drop the channel axis: maps[..., 0])"
        elif array.ndim == 2:
            hint = " (a single map? pass maps[None])"
        raise ValueError(
            f"{name}: expected one map per image of shape {expected} "
            f"(batch, height, width, matching the inputs), got shape "
            f"{array.shape}{hint}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name}: the batch is empty (shape {array.shape}).")
    check_finite(array, name)
    return np.ascontiguousarray(array, dtype=np.float32)


def is_explainer(maps: Any) -> bool:
    """True when `maps` is an explainer callable rather than an array of maps."""
    return callable(maps) and not isinstance(maps, (np.ndarray, tf.Tensor))


def explain(
    explainer: Explainer,
    model: keras.Model,
    images: np.ndarray,
    target: TargetLike,
    name: str = "explainer",
) -> np.ndarray:
    """Runs `explainer(model, images, target=target)` and checks the maps it returns."""
    label = getattr(explainer, "__name__", None) or type(explainer).__name__
    produced = explainer(model, images, target=target)
    return as_maps(produced, images.shape[:3], f"{name} (returned by {label})")


def maps_or_explainer(
    maps: Any, model: keras.Model, images: np.ndarray, name: str = "maps"
) -> np.ndarray | Explainer:
    """Checks `maps` before any forward pass: checked maps, or an explainer callable.

    Args:
        maps: Array `(B, H, W)`, an explainer callable
            `explainer(model, inputs, target=target)`, or an explainer instance built on
            `model` (`tfxai.GradCAM(model)`, called as `instance(inputs, target)`).
        model: The Keras model.
        images: Checked float32 images `(B, H, W, C)`.
        name: String, the argument name used in error messages.

    Returns:
        float32 maps `(B, H, W)`, or a callable `explainer(model, inputs, target=...)`.

    Raises:
        TypeError: For an explainer class (`tfxai.GradCAM`), a method name or another
            non-numeric value.
        ValueError: For maps of the wrong shape or with NaN, or an instance built on
            another model.
    """
    if isinstance(maps, str):
        hint = f"; pass the function tfxai.{maps}" if maps in methods.METHODS else ""
        raise TypeError(
            f"{name}: expected maps (B, H, W) or an explainer callable such as "
            f"tfxai.grad_cam, got the string {maps!r}{hint}."
        )
    methods.refuse_class(maps, name)
    if methods.is_instance(maps):
        instance = methods.check_instance(maps, model, name)

        def explainer(model: keras.Model, inputs: Images, target: TargetLike = None) -> np.ndarray:
            del model  # the instance holds it (checked above)
            return instance(inputs, target)

        explainer.__name__ = type(instance).__name__
        return explainer
    if is_explainer(maps):
        return maps
    return as_maps(maps, images.shape[:3], name)


def resolve_maps(
    maps: Any,
    model: keras.Model,
    images: np.ndarray,
    target: TargetLike,
    name: str = "maps",
) -> np.ndarray:
    """Maps `(B, H, W)` for `images`: checked as given, or computed by an explainer.

    Args:
        maps: Array `(B, H, W)` or an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)`.
        model: The Keras model.
        images: Checked float32 images `(B, H, W, C)`.
        target: What the explainer is called with (the metric's fixed target).
        name: String, the argument name used in error messages.
    """
    if is_explainer(maps):
        return explain(maps, model, images, target, name)
    return as_maps(maps, images.shape[:3], name)


def as_masks(masks: Any, shape: tuple[int, ...], name: str = "masks") -> np.ndarray:
    """Checks ground-truth masks against maps of `shape` `(B, H, W)`; returns bool `(B, H, W)`.

    Masks are boolean, or numeric holding only 0 and 1; an `(H, W)` mask is shared by the
    whole batch. Every mask must hold at least one pixel.

    Raises:
        TypeError: If `masks` is not boolean or numeric.
        ValueError: On a shape that does not match the maps, values other than 0/1, or an
            empty mask.
    """
    array = as_float_array(masks, name)
    if array.ndim == 2:
        array = np.broadcast_to(array, (shape[0],) + array.shape)
    if tuple(array.shape) != tuple(shape):
        raise ValueError(
            f"{name}: expected boolean masks of shape {tuple(shape)} (one per "
            f"map) or a single (H, W) mask, got shape {np.shape(masks)}."
        )
    if array.dtype != bool:
        check_finite(array, name)
        if not np.all((array == 0) | (array == 1)):
            raise ValueError(
                f"{name}: expected boolean masks (or 0/1 values), got values in "
                f"[{array.min():g}, {array.max():g}]."
            )
        array = array == 1
    empty = np.flatnonzero(~array.reshape(len(array), -1).any(axis=1))
    if empty.size:
        raise ValueError(
            f"{name}: mask {int(empty[0])} is empty ({empty.size} empty in all); "
            f"expected at least one object pixel per mask."
        )
    return np.ascontiguousarray(array)


def check_non_negative(maps: Any, name: str = "maps") -> None:
    """Raises a `ValueError` naming `name` if a map holds negative values."""
    low = float(maps.min())
    if low < 0:
        raise ValueError(
            f"{name}: expected non-negative maps (e.g. normalized to [0, 1]), "
            f"got a minimum of {low:g}."
        )


def check_unit_range(maps: Any, name: str = "maps") -> None:
    """Raises a `ValueError` naming `name` unless every value is in [0, 1]."""
    low, high = float(maps.min()), float(maps.max())
    if low < 0 or high > 1:
        raise ValueError(
            f"{name}: expected maps in [0, 1] (explainers return them with "
            f"normalize=True), got values in [{low:g}, {high:g}]."
        )
