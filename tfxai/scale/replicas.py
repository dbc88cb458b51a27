"""Splitting each batch across the replicas of a `tf.distribute` strategy.

A batch is cut into one contiguous part per replica (as even as `np.array_split` makes
them); `strategy.run` explains each part on its replica's device (MirroredStrategy runs the
replicas side by side, one thread each) and the parts' maps are joined in replica order,
so the result is the batch's maps in order, as without a strategy. The model's variables
are read where they live: nothing is copied into the strategy's scope and the model is
never rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

#: `explain(start, stop) -> maps (stop - start, ...)` of a slice of the current batch.
Explain = Callable[[int, int], np.ndarray]


def check_strategy(strategy: Any) -> tf.distribute.Strategy | None:
    """Returns `strategy` (or `None`) checked.

    Raises:
        TypeError: If `strategy` is not a `tf.distribute.Strategy`.
    """
    if strategy is None or isinstance(strategy, tf.distribute.Strategy):
        return strategy
    raise TypeError(
        f"strategy: expected a tf.distribute.Strategy (e.g. "
        f"tf.distribute.MirroredStrategy()) or None, got {type(strategy).__name__}."
    )


def bounds(count: int, replicas: int) -> list[tuple[int, int]]:
    """`(start, stop)` of each replica's part of a batch of `count` images."""
    edges = np.linspace(0, count, replicas + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def run_split(
    strategy: tf.distribute.Strategy, explain: Explain, count: int, map_shape: tuple
) -> np.ndarray:
    """The maps of a batch of `count` images, each replica explaining its part.

    Args:
        strategy: The `tf.distribute.Strategy`.
        explain: `explain(start, stop)`, the maps of images `start:stop` of the batch.
        count: Integer, the batch's size.
        map_shape: The shape of one map, for a replica left without images.
    """
    parts = bounds(count, strategy.num_replicas_in_sync)
    values = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(parts[context.replica_id_in_sync_group], tf.int64)
    )

    def replica_step(part):
        start, stop = (int(v) for v in part.numpy())
        if stop == start:
            return tf.zeros((0, *map_shape), tf.float32)
        return tf.constant(explain(start, stop), tf.float32)

    results = strategy.experimental_local_results(strategy.run(replica_step, args=(values,)))
    return np.concatenate([np.asarray(result) for result in results], axis=0)
