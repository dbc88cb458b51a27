"""What `explain_dataset` reads: a `tf.data.Dataset`, an array, or a folder of image files.

Every source becomes one stream of single images as dicts `{"image", "label", "mask"}`
(`label` and `mask` when the source has them; `file`, the path under the folder, for a
folder), in a fixed order, plus a JSON description
for the manifest. Datasets may be batched or not (told apart by the rank of `x` against
the model's input); elements are `x`, `(x, y)` or `(x, y, masks)`, or dicts with an
`"image"` key (and `"label"`, `"mask"`) as TensorFlow Datasets yields them. Folder images
are decoded by TensorFlow in parallel, as [0, 1] floats, resized (bilinear) to the model's
input size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

#: The file endings read from a folder.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def image_stream(source: Any, model: keras.Model) -> tuple[tf.data.Dataset, dict]:
    """`(stream, description)`: single-image dict elements and the source's description.

    Raises:
        ValueError: For an infinite or empty-shaped dataset, elements that are not images
            of the model's rank, a folder without images, or a path that is no folder.
        TypeError: For a source of another type.
    """
    if isinstance(source, (str, os.PathLike)):
        return _folder_stream(os.fspath(source), model)
    if isinstance(source, (np.ndarray, tf.Tensor)):
        source = tf.data.Dataset.from_tensor_slices(source)
    if not isinstance(source, tf.data.Dataset):
        raise TypeError(
            f"dataset: expected a tf.data.Dataset, an image array or a folder of image "
            f"files, got {type(source).__name__}."
        )
    return _dataset_stream(source, model)


def model_rank(model: keras.Model) -> int:
    """The rank of the model's image input with its batch axis (4 for 2-D images)."""
    shape = model.input_shape
    if isinstance(shape, list) or shape is None:
        raise ValueError(
            f"model: explain_dataset needs a model with one image input, got input shape {shape}."
        )
    return len(shape)


def _dataset_stream(dataset, model):
    cardinality = int(dataset.cardinality())
    if cardinality == tf.data.INFINITE_CARDINALITY:
        raise ValueError(
            "dataset: the dataset is infinite (e.g. .repeat() without a count) and would "
            "never end; pass a finite one, e.g. dataset.take(n)."
        )
    spec = dataset.element_spec
    keys: tuple[str, ...] = ("image", "label", "mask")
    if isinstance(spec, dict):  # TFDS-style {"image": ..., "label": ...}
        keys = tuple(key for key in ("image", "label", "mask") if key in spec)
        parts = tuple(spec[key] for key in keys)
        if "image" not in spec:
            raise ValueError(
                f"dataset: dict elements need an 'image' key (and optionally 'label', "
                f"'mask'), got keys {sorted(spec)}."
            )
        dataset = dataset.map(lambda element: tuple(element[key] for key in keys))
    else:
        parts = tuple(spec) if isinstance(spec, (tuple, list)) else (spec,)
    if not all(isinstance(part, tf.TensorSpec) for part in parts) or len(parts) > 3:
        raise ValueError(
            f"dataset: expected elements x, (x, y) or (x, y, masks) of tensors, or dicts "
            f"with 'image' (and 'label', 'mask'), got {spec}."
        )
    rank, image_rank = model_rank(model), parts[0].shape.rank
    if image_rank not in (rank, rank - 1):
        raise ValueError(
            f"dataset: expected images of rank {rank - 1} (one image) or {rank} (a batch) "
            f"for model input {model.input_shape}, got elements x of shape "
            f"{tuple(parts[0].shape)}."
        )
    batched = image_rank == rank
    keys = keys[: len(parts)]

    def as_dict(*values):
        return dict(zip(keys, values))

    stream = dataset.map(as_dict)
    if batched:
        stream = stream.unbatch()
    description = {
        "kind": "dataset",
        "element_spec": str(spec),
        "batched": batched,
        "cardinality": cardinality if cardinality >= 0 else None,
    }
    return stream, description


def _folder_stream(folder, model):
    paths, names, description = folder_listing(folder)
    size = folder_image_size(model)
    stream = tf.data.Dataset.from_tensor_slices((paths, names)).map(
        lambda path, name: {"image": decode_image(path, size), "file": name},
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return stream, description


def folder_listing(folder: str, name: str = "dataset") -> tuple[list[str], list[str], dict]:
    """`(paths, names, description)` of the image files under `folder`, in sorted path
    order: their paths, their paths relative to `folder` (the shards' `file`), and the
    source's description for the manifest.

    Raises:
        ValueError: If `folder` is no folder or holds no image files, naming `name`.
    """
    if not os.path.isdir(folder):
        raise ValueError(f"{name}: {folder!r} is not a folder of image files.")
    paths = sorted(
        os.path.join(root, file)
        for root, _, files in os.walk(folder)
        for file in files
        if file.lower().endswith(IMAGE_SUFFIXES)
    )
    if not paths:
        raise ValueError(
            f"{name}: no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {folder!r}."
        )
    listing = hashlib.sha1()
    for path in paths:
        listing.update(f"{os.path.relpath(path, folder)}|{os.path.getsize(path)}\n".encode())
    names = [os.path.relpath(path, folder) for path in paths]
    description = {
        "kind": "folder",
        "path": os.path.abspath(folder),
        "files": len(paths),
        "listing_sha1": listing.hexdigest(),
    }
    return paths, names, description


def folder_image_size(model: keras.Model) -> tuple[int, int, int]:
    """`(height, width, channels)` that folder images are decoded to for `model`.

    Raises:
        ValueError: If the model has no single fixed-size image input.
    """
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4 or shape[1] is None or shape[2] is None:
        raise ValueError(
            f"model: reading a folder needs a model with one fixed-size image input "
            f"(batch, height, width, channels), got input shape {shape}."
        )
    height, width, channels = shape[1:]
    return int(height), int(width), int(channels)


def decode_image(path: Any, size: tuple[int, int, int]) -> tf.Tensor:
    """The image file at `path` as float32 `(height, width, channels)` in [0, 1]: decoded
    (PNG/JPEG/BMP/GIF, first frame), converted and resized (bilinear) to `size`."""
    height, width, channels = size
    data = tf.io.read_file(path)
    image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    # Bilinear without antialiasing, as keras.utils.image_dataset_from_directory resizes:
    # the pixels a Keras training pipeline gives the model (and half the CPU of antialias)
    pixels = tf.image.convert_image_dtype(image, tf.float32)
    image = tf.image.resize(pixels, (height, width))
    return tf.ensure_shape(image, (height, width, channels))


def read_batches(batches: Iterator[Any], model: keras.Model) -> Iterator[Any]:
    """Yields the elements of a batched pipeline's iterator; an error of tf.data while
    reading (images of different sizes batched together, a file it cannot decode) becomes
    a `ValueError` naming `dataset`, with TensorFlow's own first line."""
    while True:
        try:
            element = next(batches)
        except StopIteration:
            return
        except tf.errors.InvalidArgumentError as error:
            first = str(error.message).strip().splitlines()[0]
            size = tuple(model.input_shape[1:-1])
            raise ValueError(
                f"dataset: reading a batch failed: {first}. Give images of one size, the "
                f"model's {size}, e.g. dataset.map(lambda x, *rest: (tf.image.resize(x, "
                f"{size}), *rest)), and files TensorFlow decodes (PNG, JPEG, BMP, GIF)."
            ) from None
        yield element
