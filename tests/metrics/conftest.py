"""Models for the metric tests: hand-set toy heads and a tiny trained classifier.

- `toy_model`: `Input(H, W, C) -> GlobalAveragePooling2D -> Dense(2)` with fixed weights
  (optionally a softmax head). Its class-0 probability is `sigmoid(w . mean(x) + b)`, a
  known function of which pixels are left, so curves can be computed by hand.
- `trained_classifier`: a tiny conv net trained in a few seconds on a trivially learnable
  synthetic task: the class is the colour (red, green, blue) of a 4x4 square placed at a
  random position on a dim noisy background; the square's mask is the ground truth.
"""

import functools

import keras
import numpy as np
import pytest

SIZE = 16
SQUARE = 4
CLASSES = 3


def toy_model(kernel, bias=(0.0, 0.0), *, size=(3, 3), softmax=False, name="toy"):
    """GAP -> Dense(2) with `kernel` `(C, 2)` and `bias`; logits or a softmax head."""
    kernel = np.asarray(kernel, dtype=np.float32)
    inputs = keras.Input(tuple(size) + (kernel.shape[0],))
    pooled = keras.layers.GlobalAveragePooling2D(name="gap")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax" if softmax else None, name="head")(pooled)
    model = keras.Model(inputs, outputs, name=name + ("_softmax" if softmax else "_logits"))
    model.get_layer("head").set_weights([kernel, np.asarray(bias, dtype=np.float32)])
    return model


def square_data(count, seed):
    """Images `(count, 16, 16, 3)`, labels `(count,)` and square masks `(count, 16, 16)`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, count)
    images = rng.uniform(0.0, 0.3, (count, SIZE, SIZE, 3)).astype(np.float32)
    masks = np.zeros((count, SIZE, SIZE), dtype=bool)
    for index, label in enumerate(labels):
        row, col = rng.integers(0, SIZE - SQUARE + 1, 2)
        masks[index, row : row + SQUARE, col : col + SQUARE] = True
        colour = np.full(3, 0.1, dtype=np.float32)
        colour[label] = 1.0
        images[index, row : row + SQUARE, col : col + SQUARE] = colour
    return images, labels, masks


@functools.cache
def _trained():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(CLASSES, activation="softmax", name="probs"),
        ],
        name="squares",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    images, labels, _ = square_data(480, seed=1)
    model.fit(images, labels, epochs=4, batch_size=32, verbose=0)
    test_images, test_labels, test_masks = square_data(12, seed=2)
    accuracy = float(np.mean(model.predict(test_images, verbose=0).argmax(-1) == test_labels))
    return model, test_images, test_labels, test_masks, accuracy


@pytest.fixture(scope="session")
def trained_classifier():
    """`(model, images, labels, masks)`: the trained colour classifier and 12 test images."""
    model, images, labels, masks, accuracy = _trained()
    assert accuracy == 1.0, f"the tiny classifier did not learn the task ({accuracy:.2f})"
    return model, images, labels, masks
