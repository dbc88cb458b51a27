"""Type aliases of the public annotations: what `inputs`, `target` and `layer` accept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, Union

import keras
import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    from tfxai.targets import Target

#: Images `(B, H, W, C)` as numpy, a tensor or a dataset of batches.
Images: TypeAlias = np.ndarray | tf.Tensor | tf.data.Dataset
#: A target shorthand: None (predicted class), a class id, one per sample, "labels" (each
#: dataset element's y), a callable on the model output, or a `Target`.
TargetLike: TypeAlias = Union[
    int, Sequence[int], np.ndarray, str, Callable[..., Any], "Target", None
]
#: A layer reference: a name or nested path, an index, or the layer itself.
LayerRef: TypeAlias = str | int | keras.layers.Layer
#: An explainer function `fn(model, inputs, target=None, **options) -> (B, H, W)`.
Explainer: TypeAlias = Callable[..., np.ndarray]
