"""Synthetic shapes with ground-truth masks, for classification and segmentation.

This module is the public face (`make_shapes`, `shapes_dataset`); the drawing is
`tfxai.datasets.shapes_render`.

Each image shows shapes of five classes (`CLASSES`) with random size, position, rotation
and colour, on a textured background (a smooth random gradient, low-frequency texture and
pixel noise) with distractor clutter that belongs to no class: thin lines and small dots.
The masks are exact: they mark the visible pixels of each class shape (a later shape
occludes an earlier one), and never the clutter, which is drawn underneath the shapes.

Everything is vectorized with numpy over a coordinate grid (one inside-test per shape, on
chunks of images), so a thousand 96 px images take about a second, and a seed gives
bit-identical arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

# Re-exported: `shapes.render`, `shapes.TASKS` as before the split.
from tfxai.datasets.shapes_render import CLASSES, TASKS, render

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["CLASSES", "TASKS", "Shapes", "make_shapes", "one_hot", "render", "shapes_dataset"]


class Shapes(NamedTuple):
    """A batch of shape images with ground truth.

    Attributes:
        images: float32 `(n, H, W, 3)` in [0, 1].
        labels: int32 `(n,)`: the class index (into `class_names`) of the image's shape
            (classification) or of its largest visible shape (segmentation).
        masks: float32 `(n, H, W, 1 + len(class_names))`, one-hot per pixel: channel 0 is
            the background (clutter included), channel `1 + c` the visible pixels of class
            `c`.
        class_names: Tuple of strings, `CLASSES`.
    """

    images: np.ndarray
    labels: np.ndarray
    masks: np.ndarray
    class_names: tuple


def make_shapes(
    n: int,
    *,
    size: int = 96,
    seed: int | tuple[int, ...] = 0,
    task: str = "classification",
    max_shapes: int = 3,
    clutter: bool = True,
) -> Shapes:
    """Generates `n` images of shapes with known labels and pixel masks.

    Shapes are at least ~18 px across at 96 px (sizes scale with `size`), lie wholly
    inside the image and stand upright, tilted by up to 15 degrees. Their colour differs
    from the background under them and from the other shapes of the image by an RGB
    distance of at least 0.4. In segmentation images, shapes are kept apart when possible
    but may overlap; a later shape hides an earlier one and the masks show what is
    visible.

    Args:
        n: Integer >= 0, the number of images.
        size: Integer >= 32, default 96. Image height and width in pixels.
        seed: Integer (or tuple of integers), default 0. The same seed gives
            bit-identical arrays; any other seed gives an independent sample.
        task: String, default `"classification"`. `"classification"`: exactly one class
            shape per image, classes balanced (each appears `n // 5` or `n // 5 + 1`
            times). `"segmentation"`: 1 to `max_shapes` shapes of random classes per image.
        max_shapes: Integer in [1, 100], default 3. Most shapes per segmentation image.
        clutter: Boolean, default True. Draw distractor lines and dots (never in the
            masks). With the same seed, `clutter=False` gives the same shapes and masks.

    Returns:
        A `Shapes` tuple `(images, labels, masks, class_names)`.

    Raises:
        ValueError: If `n`, `size`, `task` or `max_shapes` is invalid.

    Example:
        >>> data = make_shapes(100, seed=1)
        >>> data.images.shape, data.masks.shape
        ((100, 96, 96, 3), (100, 96, 96, 6))
    """
    images, labels, classmap = render(
        n, size=size, seed=seed, task=task, max_shapes=max_shapes, clutter=clutter
    )
    masks = one_hot(classmap)
    return Shapes(images, labels, masks, CLASSES)


def shapes_dataset(
    n: int,
    *,
    batch_size: int = 32,
    task: str = "classification",
    seed: int = 0,
    size: int = 96,
    max_shapes: int = 3,
    clutter: bool = True,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of `make_shapes` batches.

    Args:
        n: Integer >= 0, the number of images.
        batch_size: Integer >= 1, default 32.
        task: String, default `"classification"`: batches `(images, labels)`;
            `"segmentation"`: batches `(images, masks)` with one-hot masks
            `(B, H, W, 1 + len(CLASSES))`.
        seed: Integer, default 0.
        size: Integer, default 96.
        max_shapes: Integer, default 3 (segmentation only).
        clutter: Boolean, default True.

    Returns:
        A batched, unshuffled `tf.data.Dataset` (the arrays are generated once, up front).

    Raises:
        ValueError: On invalid arguments (as `make_shapes`), or `batch_size` < 1.

    Example:
        >>> ds = shapes_dataset(1000, task="segmentation", seed=3)
        >>> model.fit(ds, epochs=2)
    """
    import tensorflow as tf

    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size!r}.")
    images, labels, classmap = render(
        n, size=size, seed=seed, task=task, max_shapes=max_shapes, clutter=clutter
    )
    if task == "classification":
        return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    depth = 1 + len(CLASSES)
    return (
        tf.data.Dataset.from_tensor_slices((images, classmap))
        .batch(batch_size)
        .map(lambda x, m: (x, tf.one_hot(tf.cast(m, tf.int32), depth, dtype=tf.float32)))
    )


def one_hot(classmap: np.ndarray) -> np.ndarray:
    """One-hot float32 masks `(..., 1 + len(CLASSES))` from a map of class indices."""
    return np.eye(1 + len(CLASSES), dtype=np.float32)[np.asarray(classmap)]
