"""Two small classifiers for the synthetic shapes: a max-pooled ResNet and a plain GAP CNN."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfxai.models.layers import conv_bn_relu, residual_block

L = keras.layers


def _check_sizes(classes: int, width: int) -> None:
    """Raises a `ValueError` naming `classes` or `width` when it is not an integer >= 1."""
    for arg, value in (("classes", classes), ("width", width)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg}: expected an integer >= 1, got {value!r}.")


def shapes_classifier(
    input_shape: Sequence[int] = (96, 96, 3), classes: int = 5, width: int = 16
) -> keras.Model:
    """A small ResNet for shape images, returning class logits `(B, classes)` (no softmax).

    Layers: `"rescale"` (inputs in [0, 1] to [-1, 1]), a stride-2 `"stem"`, four residual
    blocks `"block1_out"` .. `"block4_out"` (strides 1, 2, 1, 1: the last three at 1/4 of
    the input size, i.e. 24x24 at 96 px, so CAMs localize within a few pixels), a 1x1
    convolution without bias `"class_map"` giving one score per class and position (so
    Grad-CAM is exactly its positive part, not shifted by a bias), and global max
    pooling `"logits"`: the logit of a class is its strongest local detection (the
    multiple-instance head of Oquab et al. 2015). The features are local (receptive field
    about 55 px), so the evidence for a class sits on the object; Grad-CAM on
    `"block4_out"` is then the class map itself and peaks where the model found the
    object. (Average pooling trains much more slowly here: the object covers a few
    percent of the image.)

    Args:
        input_shape: Tuple, default `(96, 96, 3)`: RGB images in [0, 1].
        classes: Integer >= 1, default 5 (`tfxai.datasets.CLASSES`).
        width: Integer >= 1, default 16. Channels of the stem and first block; the
            next blocks have 2x, 2x and 4x as many.

    Returns:
        A Functional `keras.Model` named `"shapes_classifier"`.

    Raises:
        ValueError: If `classes` or `width` is not an integer >= 1.

    Example:
        >>> model = tfxai.models.load("shapes-classifier")
        >>> cams = tfxai.grad_cam(model, images, layer="block4_out")

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
        https://arxiv.org/abs/1512.03385; Oquab et al., "Is object localization for
        free? Weakly-supervised learning with convolutional neural networks", CVPR 2015.
    """
    _check_sizes(classes, width)
    inputs = keras.Input(tuple(input_shape), name="image")
    x = L.Rescaling(2.0, offset=-1.0, name="rescale")(inputs)
    x = conv_bn_relu(x, width, "stem", strides=2, relu_name="stem")
    x = residual_block(x, width, "block1")
    x = residual_block(x, 2 * width, "block2", strides=2)
    x = residual_block(x, 2 * width, "block3")
    x = residual_block(x, 4 * width, "block4")
    x = L.Conv2D(classes, 1, use_bias=False, dtype="float32", name="class_map")(x)
    outputs = L.GlobalMaxPooling2D(dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="shapes_classifier")


def shapes_gap_classifier(
    input_shape: Sequence[int] = (96, 96, 3), classes: int = 5, width: int = 16
) -> keras.Model:
    """A plain CNN for shape images with the usual head: global average pooling, softmax.

    The conventional layout of most image classifiers (VGG, ResNet, MobileNet ...), kept
    small: `"rescale"` (inputs in [0, 1] to [-1, 1]), five 3x3 convolution-BN-ReLU
    layers with two 2x2 max poolings between them: `"block1_out"` (stride 2, 1/2 of the
    input size), `"block2_out"` (1/2), `"block3_out"` (1/4), `"block4a_out"` and
    `"block4_out"` (1/8: 12x12 at 96 px, receptive field 53 px, enough to see a whole
    shape), then `"avg_pool"` (global average pooling) and `"predictions"` (a Dense
    layer with softmax; explainers read the logits behind it). Trained on labels only
    (`python -m tfxai.models.train --model shapes-gap-classifier`): nothing tells it
    where the object is, so its CAMs look like a typical classifier's, a region over the
    object, rather than the single peak of the mask-supervised, max-pooled
    `shapes_classifier`.

    Args:
        input_shape: Tuple, default `(96, 96, 3)`: RGB images in [0, 1].
        classes: Integer >= 1, default 5 (`tfxai.datasets.CLASSES`).
        width: Integer >= 1, default 16. Channels of the first layer; the next ones have
            2x, 4x, 8x and 8x as many.

    Returns:
        A Functional `keras.Model` named `"shapes_gap_classifier"` with softmax output
        `(B, classes)`.

    Raises:
        ValueError: If `classes` or `width` is not an integer >= 1.

    Example:
        >>> model = tfxai.models.load("shapes-gap-classifier")
        >>> cams = tfxai.grad_cam(model, images, layer="block4_out")

    Reference:
        Zhou et al., "Learning Deep Features for Discriminative Localization", CVPR 2016
        (the global-average-pooling head CAM was defined on).
        https://arxiv.org/abs/1512.04150
    """
    _check_sizes(classes, width)
    inputs = keras.Input(tuple(input_shape), name="image")
    x = L.Rescaling(2.0, offset=-1.0, name="rescale")(inputs)
    x = conv_bn_relu(x, width, "block1", strides=2, relu_name="block1_out")
    x = conv_bn_relu(x, 2 * width, "block2", relu_name="block2_out")
    x = L.MaxPooling2D(2, name="block2_pool")(x)
    x = conv_bn_relu(x, 4 * width, "block3", relu_name="block3_out")
    x = L.MaxPooling2D(2, name="block3_pool")(x)
    x = conv_bn_relu(x, 8 * width, "block4a", relu_name="block4a_out")
    x = conv_bn_relu(x, 8 * width, "block4", relu_name="block4_out")
    x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = L.Dense(classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="shapes_gap_classifier")
