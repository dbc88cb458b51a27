"""Shared fixtures: one small model of every kind the explainers must handle."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest
import tensorflow as tf

SIZE = 32
NESTED_SIZE = 128  # conv5_block3_out of ResNet50 is 4x4 here (1x1 at SIZE)
CLASSES = 5


def _features(prefix, dtype=None):
    return [
        keras.layers.Conv2D(
            8, 3, padding="same", activation="relu", name=f"{prefix}1", dtype=dtype
        ),
        keras.layers.MaxPooling2D(name=f"{prefix}_pool", dtype=dtype),
        keras.layers.Conv2D(
            16, 3, padding="same", activation="relu", name=f"{prefix}2", dtype=dtype
        ),
    ]


def sequential_model():
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [keras.Input((SIZE, SIZE, 3))]
        + _features("conv")
        + [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(CLASSES, name="logits")],
        name="sequential",
    )


def functional_model():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    for layer in _features("conv"):
        x = layer(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="functional")


def nested_model(size=SIZE):
    """A transfer-learning model: the real Keras ResNet50 used as a layer.

    At `SIZE` (32 px) its last block, conv5_block3_out, is 1x1; the CAM contract uses
    `NESTED_SIZE`, where it is 4x4, so the maps can be checked."""
    keras.utils.set_random_seed(3)
    backbone = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(size, size, 3)
    )
    return keras.Sequential(
        [
            keras.Input((size, size, 3)),
            backbone,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(CLASSES),
        ],
        name="nested",
    )


class Subclassed(keras.Model):
    """A subclassed model whose `call` uses sub-layers and a nested Sequential."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.features = keras.Sequential(_features("conv"), name="features")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(CLASSES, name="head")

    def call(self, inputs, training=False):
        return self.head(self.pool(self.features(inputs, training=training)))


def subclassed_model():
    keras.utils.set_random_seed(4)
    model = Subclassed()
    model(np.zeros((1, SIZE, SIZE, 3), np.float32))
    return model


def multi_output_model():
    keras.utils.set_random_seed(5)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    for layer in _features("conv"):
        x = layer(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    classes = keras.layers.Dense(CLASSES, name="classes")(pooled)
    box = keras.layers.Dense(4, name="box")(pooled)
    return keras.Model(inputs, [classes, box], name="multi_output")


def mixed_precision_model():
    keras.utils.set_random_seed(6)
    policy = "mixed_float16"
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    for layer in _features("conv", dtype=policy):
        x = layer(x)
    x = keras.layers.GlobalAveragePooling2D(dtype=policy)(x)
    x = keras.layers.Dense(CLASSES, dtype=policy, name="dense16")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="mixed_precision")


MODEL_KINDS = {
    "sequential": (sequential_model, {}),
    "functional": (functional_model, {}),
    "nested": (nested_model, {}),
    "subclassed": (subclassed_model, {}),
    "multi_output": (multi_output_model, {"output": 0}),
    "mixed_precision": (mixed_precision_model, {}),
}

_built = {}


def get_model(kind):
    """Builds each kind once per session (ResNet50 is slow to build); "nested_large" is
    the nested kind at `NESTED_SIZE`."""
    if kind not in _built:
        _built[kind] = (
            nested_model(NESTED_SIZE) if kind == "nested_large" else MODEL_KINDS[kind][0]()
        )
    return _built[kind]


def images_for(model, images):
    """`images` resized to the model's declared input size (float32 numpy); unchanged for
    a model that declares none (subclassed)."""
    try:
        size = tuple(model.inputs[0].shape[1:3])
    except (AttributeError, IndexError, TypeError, ValueError):
        return images
    if tuple(images.shape[1:3]) == size:
        return images
    return tf.image.resize(images, size).numpy().astype(np.float32)


@pytest.fixture(params=list(MODEL_KINDS))
def model_kind(request):
    """`(model, extra explainer options)` for every kind of model."""
    return get_model(request.param), dict(MODEL_KINDS[request.param][1])


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, size=(3, SIZE, SIZE, 3)).astype(np.float32)


def snapshot(model):
    """Everything about a model that an explainer must leave unchanged."""
    return {
        "weights": [w.copy() for w in model.get_weights()],
        "layers": [
            (layer.name, type(layer).__name__, sorted(vars(layer))) for layer in _all_layers(model)
        ],
        "trainable": [layer.trainable for layer in _all_layers(model)],
    }


def _all_layers(model):
    found = []
    stack = list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "layers", []) if isinstance(layer, keras.Model) else [])
    return found


def assert_unchanged(before, model):
    after = snapshot(model)
    assert before["layers"] == after["layers"]
    assert before["trainable"] == after["trainable"]
    for old, new in zip(before["weights"], after["weights"]):
        np.testing.assert_array_equal(old, new)
