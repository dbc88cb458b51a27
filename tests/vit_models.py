"""Small vision transformers built from Keras layers, for the token-layer tests.

`vit()` is a ViT in the shape of Dosovitskiy et al. (2021): a strided Conv2D patch
embedding reshaped to tokens, a learned class token (and optional register tokens), a
learned position embedding, pre-norm transformer blocks (LayerNorm, MultiHeadAttention,
residual; LayerNorm, GELU MLP, residual), a final LayerNorm and a head on the class token
(`pool="token"`), on the mean of the patch tokens (`pool="gap"`, no class token), or
a class score per patch token max-pooled (`pool="max"`, the zoo classifier's head).
`stem=` filters put three Conv-BatchNorm-ReLU (the second of stride 2) before the patch
embedding (a hybrid ViT; `patch` then counts pixels of the half-size stem output).
"""

from __future__ import annotations

import keras
from keras import ops


class LeadingTokens(keras.layers.Layer):
    """Prepends `count` learned tokens (a class token, then register tokens) to a sequence."""

    def __init__(self, count: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.count = count

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.tokens = self.add_weight(
            shape=(1, self.count, input_shape[-1]), initializer=init, name="tokens"
        )

    def call(self, x):
        lead = ops.broadcast_to(self.tokens, (ops.shape(x)[0], self.count, ops.shape(x)[-1]))
        return ops.concatenate([ops.cast(lead, x.dtype), x], axis=1)

    def get_config(self):
        return {**super().get_config(), "count": self.count}


class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding per position of a `(B, N, D)` sequence."""

    def build(self, input_shape):
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.positions = self.add_weight(
            shape=(1, input_shape[1], input_shape[2]), initializer=init, name="positions"
        )

    def call(self, x):
        return x + ops.cast(self.positions, x.dtype)


class TakeToken(keras.layers.Layer):
    """The token at `index` of a `(B, N, D)` sequence: the class token's read-out."""

    def __init__(self, index: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.index = index

    def call(self, x):
        return x[:, self.index]

    def get_config(self):
        return {**super().get_config(), "index": self.index}


def vit(
    size=(32, 32),
    patch=4,
    dim=16,
    depth=2,
    heads=2,
    mlp=32,
    classes=5,
    pool="token",
    registers=0,
    seed=0,
    stem=0,
    name=None,
):
    """A small ViT; the layers are named `embed`, `tokens`, `block{i}_{norm1,attn,add1,
    norm2,mlp1,mlp2,add2}`, `norm`, `pool`, `logits`."""
    keras.utils.set_random_seed(seed)
    height, width = size
    inputs = keras.Input((height, width, 3), name="image")
    x = inputs
    if stem:  # a hybrid ViT: a small conv stem before the patch embedding
        x = keras.layers.Conv2D(stem, 3, padding="same", use_bias=False, name="stem")(x)
        x = keras.layers.BatchNormalization(name="stem_bn")(x)
        x = keras.layers.ReLU(name="stem_relu")(x)
        x = keras.layers.Conv2D(2 * stem, 3, 2, padding="same", use_bias=False, name="stem2")(x)
        x = keras.layers.BatchNormalization(name="stem2_bn")(x)
        x = keras.layers.ReLU(name="stem2_relu")(x)
        x = keras.layers.Conv2D(2 * stem, 3, padding="same", use_bias=False, name="stem3")(x)
        x = keras.layers.BatchNormalization(name="stem3_bn")(x)
        x = keras.layers.ReLU(name="stem3_relu")(x)
        height, width = height // 2, width // 2
    x = keras.layers.Conv2D(dim, patch, strides=patch, name="embed")(x)
    x = keras.layers.Reshape(((height // patch) * (width // patch), dim), name="patches")(x)
    if pool == "token":
        x = LeadingTokens(1 + registers, name="tokens")(x)
    x = PositionEmbedding(name="positions")(x)
    for i in range(1, depth + 1):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm1")(x)
        y = keras.layers.MultiHeadAttention(heads, dim // heads, name=f"block{i}_attn")(y, y)
        x = keras.layers.Add(name=f"block{i}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm2")(x)
        y = keras.layers.Dense(mlp, activation="gelu", name=f"block{i}_mlp1")(y)
        y = keras.layers.Dense(dim, name=f"block{i}_mlp2")(y)
        x = keras.layers.Add(name=f"block{i}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")(x)
    if pool == "max":  # a class score per patch token, max-pooled (multiple-instance)
        x = keras.layers.Dense(classes, name="class_map")(x)
        outputs = keras.layers.GlobalMaxPooling1D(name="logits")(x)
        return keras.Model(inputs, outputs, name=name or f"vit_{pool}")
    if pool == "token":
        x = TakeToken(0, name="pool")(x)
    else:
        x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name or f"vit_{pool}")
