"""U-Net: a segmentation network with encoder-decoder skip connections."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from tfxai.models.layers import conv_bn_relu

L = keras.layers


def unet(
    input_shape: Sequence[int] = (96, 96, 3),
    num_classes: int = 6,
    depth: int = 3,
    filters: int = 16,
) -> keras.Model:
    """A U-Net returning per-pixel class logits `(B, H, W, num_classes)` (no softmax).

    Layers are named by role: `"rescale"` (inputs in [0, 1] to [-1, 1]), the encoder
    blocks `"enc1"` .. `"enc{depth}"` (full resolution first) and poolings `"pool{i}"`,
    `"bottleneck"`, the up-convolutions `"up{i}"`, the skip concatenations `"skip{i}"`
    (`[up{i}, enc{i}]`), the decoder blocks `"dec{depth}"` .. `"dec1"` and the final 1x1
    convolution `"logits"`. Level `i` has `filters * 2**(i-1)` channels. Explain it with a
    segmentation target, e.g. `tfxai.mask_score(class, mask)` (Seg-Grad-CAM) on `"dec1"`
    or `"bottleneck"`.

    Args:
        input_shape: Tuple, default `(96, 96, 3)`: RGB images in [0, 1]. Height and width
            (if known) must be divisible by `2**depth`.
        num_classes: Integer, default 6 (background + the five shapes).
        depth: Integer >= 1, default 3. Number of 2x downsamplings.
        filters: Integer >= 1, default 16. Channels of the first level.

    Returns:
        A Functional `keras.Model` named `"unet"`.

    Raises:
        ValueError: If `input_shape` is not divisible by `2**depth`, or an integer
            argument is < 1.

    Example:
        >>> model = tfxai.models.unet((96, 96, 3), num_classes=6)
        >>> logits = model(images)  # (B, 96, 96, 6)

    Reference:
        Ronneberger et al., "U-Net: Convolutional Networks for Biomedical Image
        Segmentation", MICCAI 2015. https://arxiv.org/abs/1505.04597
    """
    for arg, value in (("num_classes", num_classes), ("depth", depth), ("filters", filters)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{arg}: expected an integer >= 1, got {value!r}.")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or any(d is not None and d % 2**depth for d in input_shape[:2]):
        raise ValueError(
            f"input_shape: expected (height, width, channels) with height and "
            f"width divisible by 2**depth = {2**depth}, got {input_shape}."
        )
    inputs = keras.Input(input_shape, name="image")
    x = L.Rescaling(2.0, offset=-1.0, name="rescale")(inputs)
    skips = []
    for i in range(1, depth + 1):
        width = filters * 2 ** (i - 1)
        x = conv_bn_relu(x, width, f"enc{i}_1")
        x = conv_bn_relu(x, width, f"enc{i}_2", relu_name=f"enc{i}")
        skips.append(x)
        x = L.MaxPooling2D(name=f"pool{i}")(x)
    x = conv_bn_relu(x, filters * 2**depth, "bottleneck_1")
    x = conv_bn_relu(x, filters * 2**depth, "bottleneck_2", relu_name="bottleneck")
    for i in range(depth, 0, -1):
        width = filters * 2 ** (i - 1)
        x = L.Conv2DTranspose(width, 2, strides=2, name=f"up{i}")(x)
        x = L.Concatenate(name=f"skip{i}")([x, skips[i - 1]])
        x = conv_bn_relu(x, width, f"dec{i}_1")
        x = conv_bn_relu(x, width, f"dec{i}_2", relu_name=f"dec{i}")
    outputs = L.Conv2D(num_classes, 1, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="unet")
