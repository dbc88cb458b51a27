"""Tiny models with known weights for the attribution tests (numpy references in float64)."""

import keras
import numpy as np

H = W = 6
C = 2
CLASSES = 3


def linear_weights(seed=0):
    """`(kernel (H*W*C, CLASSES), bias (CLASSES,))` of the linear model."""
    rng = np.random.RandomState(seed)
    return rng.normal(size=(H * W * C, CLASSES)), rng.normal(size=CLASSES)


def linear_model(output_activation=None):
    """`Input(H, W, C) -> Flatten -> Dense(CLASSES)`: the score of class c is `x . W[:, c]`."""
    kernel, bias = linear_weights()
    inputs = keras.Input((H, W, C))
    dense = keras.layers.Dense(CLASSES, activation=output_activation, name="dense")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="linear")
    dense.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model


def images(count=2, seed=1, size=(H, W, C)):
    return np.random.RandomState(seed).uniform(-1.0, 1.0, (count,) + size).astype(np.float32)


RELU_SIZES = (H * W * C, 7, 5, CLASSES)


def relu_weights(seed=2):
    rng = np.random.RandomState(seed)
    return [
        (rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(scale=0.3, size=b))
        for a, b in zip(RELU_SIZES[:-1], RELU_SIZES[1:])
    ]


def relu_net(style="activation"):
    """Two hidden ReLU layers on the flattened input, the ReLUs written three ways.

    `style`: "activation" (`Dense(activation="relu")`), "layers" (`keras.layers.ReLU` and
    `Activation("relu")` layers), or "nested" (the hidden layers in a nested Sequential).
    """
    weights = relu_weights()
    activations = ["relu", "relu", None] if style == "activation" else [None] * 3
    dense = [keras.layers.Dense(b, activation=a) for b, a in zip(RELU_SIZES[1:], activations)]
    inputs = keras.Input((H, W, C))
    x = keras.layers.Flatten()(inputs)
    if style == "activation":
        x = dense[1](dense[0](x))
    elif style == "layers":
        x = keras.layers.Activation("relu")(keras.layers.ReLU()(dense[0](x)))  # relu twice
        x = keras.layers.Activation("relu")(dense[1](x))
    else:
        hidden = keras.Sequential(
            [
                keras.Input((H * W * C,)),
                dense[0],
                keras.layers.ReLU(),
                dense[1],
                keras.layers.Activation("relu"),
            ],
            name="hidden",
        )
        x = hidden(x)
    model = keras.Model(inputs, dense[2](x), name=f"relu_{style}")
    for layer, (kernel, bias) in zip(dense, weights):
        layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model


def relu_net_gradients(x, classes, guided):
    """Plain or guided input gradients of the relu net, numpy float64 `(B, H, W, C)`."""
    (w1, b1), (w2, b2), (w3, _) = relu_weights()
    result = []
    for image, c in zip(x.reshape(len(x), -1).astype(np.float64), classes):
        z1 = image @ w1 + b1
        z2 = np.maximum(z1, 0) @ w2 + b2
        g = w3[:, c]
        g = (np.maximum(g, 0) if guided else g) * (z2 > 0)
        g = w2 @ g
        g = (np.maximum(g, 0) if guided else g) * (z1 > 0)
        result.append(w1 @ g)
    return np.stack(result).reshape(x.shape)


REGION = (slice(4, 10), slice(6, 12))  # rows 4..9, columns 6..11 of a 16 x 16 image


def region_model(size=16, channels=1):
    """Class 0: the mean of the pixels in REGION; class 1: minus the mean of the image."""
    kernel = np.zeros((size, size, channels, 2), np.float32)
    kernel[REGION[0], REGION[1], :, 0] = 1.0
    kernel[..., 0] /= kernel[..., 0].sum()
    kernel[..., 1] = -1.0 / kernel[..., 1].size
    inputs = keras.Input((size, size, channels))
    dense = keras.layers.Dense(2, name="dense")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name="region")
    dense.set_weights([kernel.reshape(-1, 2), np.zeros(2, np.float32)])
    return model, kernel.reshape(-1, 2)


def segmenter(size=24):
    """Two 3x3 convs and a 1x1 head: each output pixel sees a 5x5 input window."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="enc")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="dec")(x)
    outputs = keras.layers.Conv2D(3, 1, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="segmenter")


def trained_classifier(size=16, seed=0):
    """A small conv net trained a few epochs to tell the color of a square: nonlinear."""
    keras.utils.set_random_seed(seed)
    rng = np.random.RandomState(seed)
    count = 256
    x = rng.uniform(0.0, 0.25, (count, size, size, 3)).astype(np.float32)
    y = np.arange(count) % 3
    for i, label in enumerate(y):
        top, left = rng.randint(0, size - 4, size=2)
        x[i, top : top + 4, left : left + 4, label] = 1.0
    inputs = keras.Input((size, size, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dense(16, activation="relu")(h)
    model = keras.Model(inputs, keras.layers.Dense(3)(h), name="trained")
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    return model, x[:4], y[:4]
