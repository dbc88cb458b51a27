"""Per-image explanation metrics of a streamed run, one float32 value per image.

Each metric is `tfxai.metrics`' own, computed on the batch's maps (float32, before they are
stored) with the batch's target: deletion / insertion areas (lower / higher is better),
Grad-CAM++'s drop and increase in confidence per image (in %, the terms whose means are
`average_drop` and `increase_in_confidence`), and, for sources with masks, the pointing
game (1 hit, 0 miss), the energy-based pointing game and the IoU.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from tfxai import metrics
from tfxai.metrics import confidence

#: The metrics that compare maps with object masks (the source must yield masks).
LOCALIZATION = ("pointing_game", "energy_pointing_game", "iou")
#: The metrics that run the model on altered images.
FAITHFULNESS = ("deletion", "insertion", "average_drop", "increase_in_confidence")
NAMES = FAITHFULNESS + LOCALIZATION


def check_metrics(names: Any, has_masks: bool, per_sample_target: bool) -> tuple[str, ...]:
    """The metric names of a run, checked.

    Raises:
        ValueError: On an unknown name, a localization metric without masks, or a
            faithfulness metric with a per-sample target that is not class ids.
        TypeError: If `names` is not a sequence of strings.
    """
    if isinstance(names, str):
        names = (names,)
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"metrics: expected a sequence of metric names, got {names!r}.")
    for name in names:
        if name not in NAMES:
            raise ValueError(
                f"metrics: unknown metric {name!r}; expected any of {', '.join(NAMES)}."
            )
        if name in LOCALIZATION and not has_masks:
            raise ValueError(
                f"metrics: {name!r} compares maps with object masks, but the dataset "
                f"yields no masks; give elements (x, y, masks)."
            )
        if name in FAITHFULNESS and per_sample_target:
            raise ValueError(
                f"metrics: {name!r} needs a target that is the class of each image "
                f"(None, an int, a list of ints or 'labels'), not a per-sample Target."
            )
    return tuple(dict.fromkeys(names))


def compute(
    name: str,
    model: keras.Model,
    images: np.ndarray,
    maps: np.ndarray,
    target: Any,
    masks: np.ndarray | None,
    batch_size: int,
) -> np.ndarray:
    """The metric `name` per image of a batch, float32 `(b,)`."""
    if name in LOCALIZATION:
        return _LOCALIZATION[name](maps, masks).astype(np.float32)
    if name in ("deletion", "insertion"):
        curve = metrics.deletion if name == "deletion" else metrics.insertion
        return np.asarray(curve(model, images, maps, target, batch_size=batch_size), np.float32)
    full, explained = metrics.explanation_scores(model, images, maps, target, batch_size=batch_size)
    if name == "increase_in_confidence":
        return 100.0 * (explained > full).astype(np.float32)
    return confidence.drops(full, explained).astype(np.float32)


_LOCALIZATION: dict[str, Callable[..., np.ndarray]] = {
    "pointing_game": metrics.pointing_game,
    "energy_pointing_game": metrics.energy_pointing_game,
    "iou": metrics.iou,
}
