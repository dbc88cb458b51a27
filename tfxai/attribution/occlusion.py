"""Occlusion: the drop of the target score when a patch of the image is covered.

Every occluded copy of an image (one per patch position) is built inside the compiled
graph from its patch position and scored in batched passes of `batch_size` copies; the
unoccluded image is scored in the same passes. The graph also sums `score * window` per
image, so the map `f(x) - mean over the windows covering a pixel of f(occluded)` needs no
per-copy data back from the graph.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.attribution import base
from tfxai.targets import Target


def positions(size: int, patch: int, stride: int) -> np.ndarray:
    """Window starts along one axis: every `stride`, plus one flush with the far edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.asarray(starts, np.int32)


def windows(
    image_size: Sequence[int], patch: Sequence[int], stride: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """`(tops, lefts)` of every patch position, row-major, int32."""
    tops = positions(image_size[0], patch[0], stride[0])
    lefts = positions(image_size[1], patch[1], stride[1])
    return np.repeat(tops, len(lefts)), np.tile(lefts, len(tops))


def coverage(image_size: Sequence[int], patch: Sequence[int], stride: Sequence[int]) -> np.ndarray:
    """How many windows cover each pixel, `(H, W)` float64 (at least 1 everywhere)."""
    count = np.zeros(image_size, np.float64)
    for top, left in zip(*windows(image_size, patch, stride)):
        count[top : top + patch[0], left : left + patch[1]] += 1
    return count


def check_fill(fill: float | str) -> float | str:
    if isinstance(fill, str):
        if fill != "mean":
            raise ValueError(f'fill: expected a number or "mean", got {fill!r}.')
        return fill
    if isinstance(fill, bool) or not isinstance(fill, numbers.Real) or not np.isfinite(fill):
        raise ValueError(f'fill: expected a finite number or "mean", got {fill!r}.')
    return float(fill)


class Occlusion(base.Attribution):
    """Occlusion: `f(x) - f(x with a patch covered)`, averaged over the patches per pixel.

    A `patch` slides over the image by `stride` (a last position is added flush with the
    bottom/right edges so every pixel is covered); each covered copy is scored for the
    target, and each pixel gets the mean score drop of the windows that cover it. Positive
    values mark evidence for the target. `target=None` explains the class predicted on the
    unoccluded image.

    Args:
        model: A Keras model; never changed.
        patch: Integer or `(height, width)`, default 16. Patch size in pixels.
        stride: Integer, `(height, width)` or `None` (default: half the patch, at least 1).
        fill: Number or "mean", default 0.0. Value of the covered pixels; "mean" uses each
            image's per-channel mean.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Raises:
        ValueError: On a bad `patch`, `stride` or `fill`; at call time, if the patch is
            larger than the images.

    Example:
        >>> maps = Occlusion(model, patch=32, stride=16)(images, target=[3, 5])

    Reference:
        Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks",
        ECCV 2014. https://arxiv.org/abs/1311.2901
    """

    perturbs = True

    def __init__(
        self,
        model: keras.Model,
        *,
        patch: int | tuple[int, int] = 16,
        stride: int | tuple[int, int] | None = None,
        fill: float | str = 0.0,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(model, output=output, logits=logits, input=input)
        self.patch = base.int_pair(patch, "patch")
        self.stride = (
            tuple(max(1, p // 2) for p in self.patch)
            if stride is None
            else base.int_pair(stride, "stride")
        )
        self.fill = check_fill(fill)
        if any(s > p for s, p in zip(self.stride, self.patch)):
            raise ValueError(
                f"stride: {self.stride} is larger than the patch {self.patch}, "
                f"which would leave pixels never occluded (no attribution); "
                f"expected a stride at most the patch size."
            )

    def __repr__(self) -> str:
        return f"Occlusion(model={self.model.name!r}, patch={self.patch}, stride={self.stride})"

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        del offset
        base.images_only(batch, "occlusion")
        size = batch.shape[1:3]
        if self.patch[0] > size[0] or self.patch[1] > size[1]:
            raise ValueError(
                f"patch: {self.patch} is larger than the images "
                f"{tuple(size)}; expected at most the image size."
            )
        tops, lefts = windows(size, self.patch, self.stride)
        # One unoccluded row (an empty window below the image) then every window, per image.
        tops = np.r_[size[0], tops].astype(np.int32)
        lefts = np.r_[0, lefts].astype(np.int32)
        per_image = len(tops)
        image = np.repeat(np.arange(len(batch), dtype=np.int32), per_image)
        rows = {
            "unit": image,
            "image": image,
            "top": np.tile(tops, len(batch)),
            "left": np.tile(lefts, len(batch)),
        }
        if self.fill == "mean":
            fill = batch.mean(axis=(1, 2), keepdims=True)
        else:
            fill = np.full((len(batch), 1, 1, batch.shape[-1]), self.fill, np.float32)
        images = {"target": params, "fill": fill.astype(np.float32)}
        sums = np.zeros(batch.shape[:3], np.float64)

        def store(ids, values):
            sums[ids] = values

        scores = self.run_rows(
            "occlusion", self._graph(target), batch, target, rows, images, batch_size, store
        )
        clean = scores.reshape(len(batch), per_image)[:, 0].astype(np.float64)
        count = coverage(size, self.patch, self.stride)
        return (clean[:, None, None] - sums / count).astype(np.float32)

    def _graph(self, target):
        patch_h, patch_w = self.patch

        def occlusion_graph(x, p):
            rows = p["rows"]
            images = base.gather_rows(p["images"], rows)
            inputs = tf.gather(x, rows["image"])
            ys = tf.range(x.shape[1])[None, :]
            xs = tf.range(x.shape[2])[None, :]
            top, left = rows["top"][:, None], rows["left"][:, None]
            in_rows = tf.logical_and(ys >= top, ys < top + patch_h)
            in_cols = tf.logical_and(xs >= left, xs < left + patch_w)
            window = tf.cast(tf.logical_and(in_rows[:, :, None], in_cols[:, None, :]), tf.float32)
            covered = window[..., None]
            occluded = inputs * (1.0 - covered) + images["fill"] * covered
            _, scores, _ = self.engine.scores_and_outputs(
                occluded, target, images["target"], capture=False
            )
            return base.unit_sums(scores[:, None, None] * window, rows), scores

        return occlusion_graph


occlusion = base.function_form(
    Occlusion,
    "occlusion",
    "Occlusion",
    "https://arxiv.org/abs/1311.2901",
    extra=(
        ", `patch` (Integer or (h, w), default 16), `stride` (default half the patch), "
        '`fill` (Number or "mean", default 0.0)'
    ),
    example=", patch=32, stride=16",
)
