"""Fresh trainable models (training changes weights, so never the shared fixtures) and
a reader of TensorBoard event files."""

import io

import keras
import numpy as np
import pytest
from PIL import Image

from tests import conftest as shared

SIZE, CLASSES = shared.SIZE, shared.CLASSES
FIT_KINDS = ("sequential", "functional", "nested", "subclassed", "mixed_precision")


def fresh_model(kind):
    """A new, compiled model of `kind` (the shared builders, never the cached models)."""
    model = shared.MODEL_KINDS[kind][0]()
    from_logits = kind not in ("functional", "mixed_precision")  # those end in a softmax
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
        metrics=["accuracy"],
    )
    return model


@pytest.fixture
def data():
    """16 images whose class is the quadrant holding a bright square (learnable)."""
    rng = np.random.default_rng(7)
    images = rng.uniform(0, 0.3, size=(16, SIZE, SIZE, 3)).astype(np.float32)
    labels = np.arange(16) % 4
    masks = np.zeros((16, SIZE, SIZE), bool)
    for i, label in enumerate(labels):
        y, x = divmod(int(label), 2)
        top, left = 4 + 16 * y, 4 + 16 * x
        images[i, top : top + 8, left : left + 8] = 1.0
        masks[i, top : top + 8, left : left + 8] = True
    return images, labels.astype(np.int64), masks


def read_events(folder):
    """`{tag: [(step, value)]}` from the event files in `folder`; image values are decoded
    to uint8 arrays, scalars to floats (TensorBoard's own event reader)."""
    import tensorflow as tf
    from tensorboard.backend.event_processing import event_accumulator as ea

    accumulator = ea.EventAccumulator(str(folder), size_guidance={ea.TENSORS: 0})
    accumulator.Reload()
    found = {}
    for tag in accumulator.Tags()["tensors"]:
        values = []
        for event in accumulator.Tensors(tag):
            array = tf.make_ndarray(event.tensor_proto)
            if array.dtype == object:  # an image summary: [width, height, png, ...]
                value = np.asarray(Image.open(io.BytesIO(array[2])).convert("RGB"))
            else:
                value = float(array)
            values.append((event.step, value))
        found[tag] = values
    return found


def png(path):
    return np.asarray(Image.open(path).convert("RGB"))
