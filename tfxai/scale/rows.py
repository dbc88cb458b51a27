"""The shard rows of a streamed batch: its maps, positions, class ids and metrics.

One function for `explain_dataset` and the Beam transform: the maps of consecutive images
come from the explainer at their dataset positions (the seeds of the noisy methods and the
slice of a per-sample target), optionally split across a strategy's replicas, then the
per-image metrics are computed on the float32 maps before they are cast for storage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai.scale import batch_targets, per_image, replicas
from tfxai.scale import shards as shards_lib


def explain_rows(
    explainer: Any,
    normalize: bool,
    plan: batch_targets.BatchTargets,
    names: tuple[str, ...],
    batch_size: int,
    dtype: Any,
    images: Any,
    position: int,
    *,
    labels: Any = None,
    masks: Any = None,
    strategy: tf.distribute.Strategy | None = None,
    name: str = "dataset",
) -> dict[str, np.ndarray]:
    """The shard rows of consecutive images: maps, positions, class ids and metrics.

    Args:
        explainer: The explainer (from `build_explainer`).
        normalize: Boolean, scale each map to [0, 1].
        plan: The run's `BatchTargets`.
        names: The metric names.
        batch_size: Integer, model evaluations per compiled pass.
        dtype: The stored maps' dtype.
        images: Float32 images `(n, H, W, C)`, already preprocessed.
        position: Integer, the dataset position of the first image (the seeds of the
            noisy methods and the slice of a per-sample target come from it).
        labels: The images' labels (for `target="labels"`), default `None`.
        masks: The images' object masks (for the localization metrics), default `None`.
        strategy: A `tf.distribute.Strategy` splitting the images, default `None`.
        name: String, default "dataset". The argument named by image errors.

    Returns:
        Dict of arrays of length `n`: `maps`, `index`, `target`, `metric.NAME`...
    """
    model = explainer.model
    images = inputs_lib.as_image_batch(images, model, name)
    count = len(images)
    target, params, ids = plan.for_batch(position, count, labels)

    def maps_of(start, stop):
        return explainer.explain_bound(
            images[start:stop],
            target,
            inputs_lib.slice_params(params, start, stop),
            batch_size,
            position + start,
            normalize,
        )

    if strategy is None:
        maps = maps_of(0, count)
    else:
        maps = replicas.run_split(strategy, maps_of, count, images.shape[1:-1])
    row = {"maps": maps.astype(dtype), "index": np.arange(position, position + count)}
    row["target"] = ids
    masks = None if masks is None else _masks(masks, maps.shape)
    for metric in names:
        row[shards_lib.METRIC + metric] = per_image.compute(
            metric, model, images, maps, plan.metric_target(ids), masks, batch_size
        )
    return row


def _masks(masks, shape):
    array = np.asarray(masks)
    if array.ndim == len(shape) + 1 and array.shape[-1] == 1:
        array = array[..., 0]
    return array.astype(bool)
