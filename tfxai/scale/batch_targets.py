"""The target of each streamed batch, from the one `target` given for the whole dataset.

`None`, an int, a callable or a `Target` without per-sample values serve every batch;
`"labels"` reads each image's `y`; a list of class ids (or a `Target` with per-sample
values, e.g. one mask per image) covers the whole dataset in order and is sliced by
position, so a resumed run gets the same slice as an uninterrupted one. Each batch also
gets the class ids explained, recorded in the shards (-1 where the target is no class).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib
from tfxai.labels import LABELS
from tfxai.targets import Target


class BatchTargets:
    """Per-batch targets of a streamed run.

    Args:
        target: The run's `target` (see `tfxai.scale.explain_dataset`).
        has_labels: Boolean, whether the source's elements carry a `y`.

    Raises:
        ValueError: `"labels"` for a source without labels.
    """

    def __init__(self, target: Any, has_labels: bool) -> None:
        self.whole = targets_lib.to_target(target)
        self.labels = self.whole.key == LABELS
        if self.labels and not has_labels:
            raise ValueError(
                "target: 'labels' takes each image's class from the dataset's (x, y) "
                "elements, but the dataset yields images only."
            )
        self.params = self.whole.bind(self.whole.batch) if self.whole.batch is not None else None
        self.ids = _class_ids(target)

    @property
    def length(self) -> int | None:
        """The number of images a per-sample target covers (`None`: any number)."""
        return self.whole.batch

    def for_batch(
        self, start: int, count: int, labels: Any = None
    ) -> tuple[Target, Any, np.ndarray]:
        """`(target, params, class_ids)` for the `count` images from position `start`.

        Raises:
            ValueError: When a per-sample target has fewer values than the images.
        """
        if self.labels:
            ids = targets_lib.label_classes(labels, count).astype(np.int64)
            target = targets_lib.class_score(ids.astype(np.int32))
            return target, target.bind(count), ids
        if self.params is not None and self.length is not None:
            if start + count > self.length:
                raise ValueError(
                    f"target: gives {self.length} per-sample values, but the dataset "
                    f"yields more images (at least {start + count}); give one value per "
                    f"image of the whole dataset, in order."
                )
            params = inputs_lib.slice_params(self.params, start, start + count)
            return self.whole, params, self._ids(start, count)
        return self.whole, self.whole.bind(count), self._ids(start, count)

    def check_total(self, total: int) -> None:
        """Raises when a per-sample target covers another number of images than `total`."""
        if self.params is not None and total != self.whole.batch:
            raise ValueError(
                f"target: gives {self.whole.batch} per-sample values, but the dataset "
                f"yields {total} images; give one value per image of the whole dataset."
            )

    def metric_target(self, ids: np.ndarray) -> Any:
        """The target handed to the metrics for a batch: its class ids when known, else the
        shared target (`None` is the class predicted on each image, as for the maps)."""
        if self.labels or self.ids is not None:
            return [int(i) for i in ids]
        return None if self.whole.key == ("predicted",) else self.whole

    def _ids(self, start: int, count: int) -> np.ndarray:
        if self.ids is None:
            return np.full(count, -1, np.int64)
        if self.ids.ndim == 0:
            return np.full(count, int(self.ids), np.int64)
        return self.ids[start : start + count]


def _class_ids(target: Any) -> np.ndarray | None:
    """The class ids of an int or a sequence of ints target, else `None`."""
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        return np.asarray(int(target), np.int64)
    if isinstance(target, (list, tuple, np.ndarray)):
        array = np.asarray(target)
        if array.ndim == 1 and array.dtype.kind in "iu":
            return array.astype(np.int64)
    return None
