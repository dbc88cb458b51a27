"""Shared machinery of the attribution methods: batching, compiled row passes, reduction.

Every attribution method evaluates the model on *rows*: copies of the input images, each
possibly altered (a noisy copy, a point on an integration path, an occluded or masked
copy). Rows are grouped in *units*, consecutive rows whose results add up to one value
(the path points of one Integrated Gradients attribution; a unit is a single row for
plain gradients). `Attribution.run_rows` feeds the rows to one compiled graph in chunks of
`batch_size`, so every image's copies share batched passes, and hands back each unit's
sum once it is complete, even when a unit spans two chunks.

The images go in once per batch as a tensor; each chunk only carries small per-row
arrays (which image, which path point, which mask...), and the copies are built inside
the graph. The model is never cloned and never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import keras
import numpy as np
import tensorflow as tf

from tfxai import explainer
from tfxai import inputs as inputs_lib
from tfxai.explainer import (  # noqa: F401 (the names attribution modules use from here)
    as_tensors,
    function_form,
    normalize_maps,
)
from tfxai.inputs import (  # noqa: F401 (re-exported)
    check_seed,
    int_pair,
    non_negative_float,
    positive_int,
)
from tfxai.targets import Target

REDUCTIONS = ("max", "mean", "sum", "norm")


# --------------------------------------------------------------------------- checks


def check_reduction(reduce: str, keep_sign: bool) -> tuple[str, bool]:
    """Checks the channel reduction options."""
    if reduce not in REDUCTIONS:
        raise ValueError(
            f"reduce: expected one of {', '.join(map(repr, REDUCTIONS))}, got {reduce!r}."
        )
    return reduce, inputs_lib.check_bool(keep_sign, "keep_sign")


# --------------------------------------------------------------------------- maps


def reduce_channels(
    attributions: np.ndarray, reduce: str = "max", keep_sign: bool = False
) -> np.ndarray:
    """Turns per-channel attributions `(B, H, W, C)` into maps `(B, H, W)` float32.

    Volumes `(B, D, H, W, C)` give maps `(B, D, H, W)`: only the last axis is reduced.

    Args:
        attributions: Array `(B, H, W, C)` or `(B, D, H, W, C)`.
        reduce: String, default "max". `"max"`, `"mean"`, `"sum"` over the channels, or
            `"norm"` (their Euclidean norm).
        keep_sign: Boolean, default False. When False the absolute values are reduced.

    Returns:
        float32 numpy array `(B, H, W)`.
    """
    values = np.asarray(attributions, dtype=np.float32)
    if not keep_sign:
        values = np.abs(values)
    if reduce == "max":
        return values.max(axis=-1)
    if reduce == "mean":
        return values.mean(axis=-1)
    if reduce == "sum":
        return values.sum(axis=-1)
    return np.sqrt(np.square(values).sum(axis=-1))


# --------------------------------------------------------------------------- base class


class Attribution(explainer.Explainer):
    """Base class of the attribution explainers: model evaluations in batched row passes.

    Subclasses implement `explain_batch`; the gradient methods derive from
    `tfxai.attribution.gradients.GradientAttribution`.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Attributes:
        engine: The `tfxai.engine.Engine` (without layer capture); `engine.traces` counts
            the graphs traced so far.
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(model, output=output, logits=logits, input=input)

    def run_rows(
        self,
        name: Hashable,
        graph: Callable,
        batch: np.ndarray,
        target: Target,
        rows: dict,
        images: dict,
        batch_size: int,
        consume: Callable[[np.ndarray, np.ndarray], None],
    ) -> np.ndarray:
        """Feeds rows to the compiled `graph` in chunks of `batch_size`.

        Args:
            name: Hashable, the graph's name in the compile cache (with the target key).
            graph: `graph(x, {"rows": ..., "images": ...}) -> (unit_sums, scores)`, where
                `x` is the batch, `unit_sums` the sums over each unit present in the
                chunk (in order) and `scores` the `(rows,)` target scores.
            batch: Checked float32 images `(b, H, W, C)`.
            target: The `Target` (for the compile key and the output check).
            rows: Dict of numpy arrays with a leading row axis; `rows["unit"]` (int32,
                consecutive from 0, non-decreasing) groups them.
            images: Dict of numpy arrays with a leading image axis (`b`), e.g. the target
                parameters; the graph gathers them per row.
            batch_size: Integer, rows per pass.
            consume: Callable `(unit_ids, unit_sums)` called with complete units.

        Returns:
            float32 numpy `(rows,)`: the target score of every row.
        """
        units = rows["unit"]
        last = np.r_[units[1:] != units[:-1], True]  # the last row of each unit
        x = tf.constant(batch)
        image_tensors = as_tensors(images)
        scores, pending = [], None
        for start in range(0, len(units), batch_size):
            stop = min(len(units), start + batch_size)
            chunk = {key: value[start:stop] for key, value in rows.items()}
            params = {"rows": chunk, "images": images}
            run = self.compiled(name, graph, batch, params, target)
            sums, chunk_scores = run(x, {"rows": as_tensors(chunk), "images": image_tensors})
            sums = sums.numpy()
            scores.append(chunk_scores.numpy())
            ids = np.arange(units[start], units[stop - 1] + 1)
            if pending is not None:
                sums[0] += pending
            complete = len(ids) if last[stop - 1] else len(ids) - 1
            pending = None if last[stop - 1] else sums[-1]
            if complete:
                consume(ids[:complete], sums[:complete])
        return np.concatenate(scores)


def gather_rows(images: dict, rows: dict) -> dict:
    """Per-row view of per-image tensors (inside a graph): `images[rows["image"]]`."""
    return tf.nest.map_structure(lambda a: tf.gather(a, rows["image"]), images)


def per_row(values: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """`(rows,)` values shaped to broadcast against `like` `(rows, ...)` (inside a graph):
    `(rows, 1, 1, 1)` for images, `(rows, 1, 1, 1, 1)` for volumes."""
    return tf.reshape(values, [-1] + [1] * (like.shape.rank - 1))


def images_only(batch: np.ndarray, method: str) -> None:
    """Refuses a batch of volumes for a method that only perturbs 2-D images.

    Raises:
        ValueError: If `batch` is not 4-D `(b, H, W, C)`, naming `inputs`.
    """
    if batch.ndim != 4:
        raise ValueError(
            f"inputs: {method} supports 2-D images (batch, height, width, channels) "
            f"only, got volumes of shape {batch.shape}; for volumes use a gradient "
            f"method (saliency, integrated_gradients, smooth_grad, ...) or a CAM."
        )


def unit_sums(values: tf.Tensor, rows: dict) -> tf.Tensor:
    """Sums `values` `(rows, ...)` over each unit of a chunk (inside a graph)."""
    units = rows["unit"]
    return tf.math.segment_sum(values, units - units[0])
