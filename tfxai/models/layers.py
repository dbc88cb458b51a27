"""Building blocks shared by the small models: named conv-BN-ReLU and residual blocks."""

from __future__ import annotations

import keras

L = keras.layers


def conv_bn_relu(
    x: keras.KerasTensor,
    filters: int,
    name: str,
    *,
    strides: int = 1,
    kernel_size: int = 3,
    dilation_rate: int = 1,
    relu_name: str | None = None,
) -> keras.KerasTensor:
    """`Conv2D (no bias) -> BatchNormalization -> ReLU`, layers named `{name}_conv`, ..."""
    x = L.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        dilation_rate=dilation_rate,
        name=f"{name}_conv",
    )(x)
    x = L.BatchNormalization(name=f"{name}_bn")(x)
    return L.ReLU(name=relu_name or f"{name}_relu")(x)


def residual_block(
    x: keras.KerasTensor,
    filters: int,
    name: str,
    *,
    strides: int = 1,
    dilation_rate: int = 1,
) -> keras.KerasTensor:
    """A ResNet basic block (two 3x3 convs); its output layer is named `{name}_out`."""
    y = conv_bn_relu(x, filters, f"{name}_1", strides=strides, dilation_rate=dilation_rate)
    y = L.Conv2D(
        filters,
        3,
        padding="same",
        use_bias=False,
        dilation_rate=dilation_rate,
        name=f"{name}_2_conv",
    )(y)
    y = L.BatchNormalization(name=f"{name}_2_bn")(y)
    if strides != 1 or x.shape[-1] != filters:
        x = L.Conv2D(filters, 1, strides=strides, use_bias=False, name=f"{name}_0_conv")(x)
        x = L.BatchNormalization(name=f"{name}_0_bn")(x)
    x = L.Add(name=f"{name}_add")([x, y])
    return L.ReLU(name=f"{name}_out")(x)
