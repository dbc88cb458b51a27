"""Checked image batches, each with its target's per-sample parameters.

Every explainer walks its inputs through `target_batches`: numpy arrays and tensors are
checked whole and sliced; a `tf.data.Dataset` is read one element at a time, never whole.
A per-sample target (a list of classes, one mask per image) describes the whole input in
order, datasets included: its parameters are bound once and sliced by position, and a
dataset yielding more or fewer images than the list is an error (so a list as long as one
batch is never silently reused for the next). `target="labels"` reads each element's `y`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib
from tfxai.targets import Target


def target_batches(
    inputs: Any,
    model: keras.Model,
    target: Target,
    batch_size: int,
    name: str = "inputs",
    input: str | None = None,
) -> Iterator[tuple[np.ndarray, Target, Any]]:
    """Yields `(images, target, params)` for consecutive batches of at most `batch_size`.

    Args:
        inputs: Images `(B, H, W, C)` as numpy or `tf.Tensor`, or a `tf.data.Dataset` of
            `x` or `(x, y, ...)` batches.
        model: The Keras model (its input shape is checked).
        target: A `tfxai.targets.Target` (`to_target` applied).
        batch_size: Integer >= 1. Images per yielded batch.
        name: String, default "inputs". The argument name used in error messages.
        input: String or `None` (default). The image input's name, for a model with
            several inputs (the other inputs travel in `target`: `tfxai.model_inputs`).

    Yields:
        `(images, target, params)`: float32 images `(b, H, W, C)`, the batch's target and
        its bound parameters.

    Raises:
        ValueError: On bad images or datasets (see `tfxai.inputs`), a per-sample target
            whose length differs from the number of images, or `"labels"` without a dataset
            of `(x, y)` elements.
    """
    batch_size = inputs_lib.positive_int(batch_size, "batch_size")
    if isinstance(inputs, tf.data.Dataset):
        yield from _dataset_batches(inputs, model, target, batch_size, name)
        return
    if target.key == targets_lib.LABELS:
        raise ValueError(
            "target: 'labels' takes each image's class from the (x, y) elements "
            "of a tf.data.Dataset; with arrays, pass the classes (a list of "
            "ints) as target."
        )
    images = inputs_lib.as_image_batch(inputs, model, name, input)
    params = target.bind(len(images))
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        yield batch, target, inputs_lib.slice_params(params, start, start + len(batch))


def _dataset_batches(dataset, model, target, batch_size, name):
    whole = target.bind(target.batch) if target.batch is not None else None
    offset = 0
    for images, labels in _dataset_elements(dataset, model, target, name):
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            stop = offset + len(batch)
            if labels is not None:
                batch_target = targets_lib.class_score(labels[start : start + len(batch)])
                yield batch, batch_target, batch_target.bind(len(batch))
            elif whole is not None:
                _check_length(target, stop, name, more=True)
                yield batch, target, inputs_lib.slice_params(whole, offset, stop)
            else:
                yield batch, target, target.bind(len(batch))
            offset = stop
    if whole is not None:
        _check_length(target, offset, name, more=False)


def _dataset_elements(dataset, model, target, name):
    """`(images, class ids or None)` per dataset element; `"labels"` reads each `y`."""
    wants_labels = target.key == targets_lib.LABELS
    empty = True
    for element in inputs_lib.check_dataset(dataset, name, model):
        parts = element if isinstance(element, (tuple, list)) else (element,)
        images = inputs_lib.as_image_batch(parts[0], model, name)
        labels = None
        if wants_labels:
            if len(parts) < 2:
                raise ValueError(
                    f"target: 'labels' needs dataset elements (x, y), but "
                    f"{name} yields images only."
                )
            labels = targets_lib.label_classes(parts[1], len(images))
        empty = False
        yield images, labels
    if empty:
        raise ValueError(f"{name}: the dataset is empty; expected at least one batch of images.")


def _check_length(target, count, name, *, more):
    """A per-sample target fixes `target.batch` images: refuse a dataset of another size."""
    label = target.name if len(target.name) <= 60 else target.name[:57] + "..."
    if more and count > target.batch:
        raise ValueError(
            f"target: {label} gives {target.batch} per-sample values, but {name} "
            f"yields more images (at least {count}); with a dataset, give one value per "
            f"image of the whole dataset, in order."
        )
    if not more and count != target.batch:
        raise ValueError(
            f"target: {label} gives {target.batch} per-sample values, but {name} "
            f"yields {count} images; give one value per image of the whole dataset."
        )
