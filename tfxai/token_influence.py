"""Which token layers of a vision transformer the output reads: the default ViT layer.

After the last block of a class-token ViT only the class token is read, so the patch
tokens there get exactly zero gradient and every map made from them is blank (the zero
gradients pytorch-grad-cam users meet). `influential_layers` finds, in one eager pass on a
seeded random image, which token layers' patch tokens reach the output; the default layer
of a ViT (`last_token_layer`) and the check of a chosen layer (`check_influence`) use it.
The grids themselves are `tfxai.tokens`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfxai.keras_private import model_input_shape, shadow_calls
from tfxai.tokens import TokenGrid, grid_of

__all__ = ["check_influence", "influential_layers", "last_token_layer"]


def _probe_input(model: keras.Model, shape: tuple) -> np.ndarray:
    """A seeded random input of `shape` (batch of 1) in the model input's dtype."""
    rng = np.random.default_rng(0)
    dtype = getattr(getattr(model, "inputs", [None])[0], "dtype", "float32") or "float32"
    if np.issubdtype(np.dtype(str(dtype)), np.integer):
        return rng.integers(0, 256, size=shape).astype(str(dtype))
    return rng.uniform(0.0, 1.0, size=shape).astype(np.float32)


def influential_layers(
    model: keras.Model, layers: Sequence[keras.layers.Layer], tokens: TokenGrid | None = None
) -> list[tuple[keras.layers.Layer, bool]]:
    """The token layers among `layers`, each with whether the output reads its patches.

    One eager pass on a seeded random image captures the layers' outputs; the gradient
    of a seeded random projection of every model output with respect to each `(B, N, D)`
    output tells whether its patch tokens (the leading tokens dropped) reach the output
    at all: after the last block of a class-token ViT they get exactly zero gradient.

    Args:
        model: A Keras model with a known input shape.
        layers: Candidate layers of `model`.
        tokens: A `TokenGrid` for every layer, or `None` (inferred per layer).

    Returns:
        `(layer, influential)` for every layer of `layers` (in that order) whose output
        is `(B, N, D)` with a patch grid; layers without one are left out.

    Raises:
        ValueError: If the model's input shape is not known.

    Example:
        >>> found = dict((l.name, ok) for l, ok in influential_layers(vit, vit.layers))
        >>> found["block2_norm1"], found["norm"]  # a class-token ViT
        (True, False)
    """
    shape = model_input_shape(model)
    if shape is None or any(v is None for v in shape[1:]):
        raise ValueError(
            f"layer: cannot probe the token layers of model {model.name!r} without a "
            f"known input shape; call the model once, or pass `layer=` explicitly."
        )
    image = tuple(shape[1:3]) if len(shape) == 4 else None
    seen: dict[int, tf.Tensor] = {}

    def record(layer, output):
        if isinstance(output, tf.Tensor) and output.shape.rank == 3:
            tape.watch(output)
            seen[id(layer)] = output
        return output

    x = tf.constant(_probe_input(model, (1,) + tuple(shape[1:])))
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        with shadow_calls(layers, record):
            outputs = model(x, training=False)
        rng = np.random.default_rng(1)
        total = tf.add_n(
            [
                tf.reduce_sum(
                    tf.cast(out, tf.float32) * rng.normal(size=out.shape).astype(np.float32)
                )
                for out in tf.nest.flatten(outputs)
            ]
        )
    grids = {}
    for layer in layers:
        value = seen.get(id(layer))
        if value is not None and id(layer) not in grids:
            try:
                grids[id(layer)] = grid_of(tuple(value.shape), tokens, image, layer.name)
            except ValueError:
                continue
    ids = list(grids)
    gradients = dict(zip(ids, tape.gradient(total, [seen[i] for i in ids])))
    found = []
    for layer in layers:
        if id(layer) not in grids:
            continue
        gradient = gradients[id(layer)]
        reads = gradient is not None and bool(
            tf.reduce_any(tf.not_equal(gradient[:, grids[id(layer)].skip :], 0.0))
        )
        found.append((layer, reads))
    return found


def _probe(model, layers, tokens):
    """`influential_layers`, or `[]` when the model cannot be probed on its own (an input
    shape not fixed, several inputs): the default layer and the check are best-effort."""
    try:
        return influential_layers(model, layers, tokens)
    except (ValueError, TypeError, tf.errors.InvalidArgumentError):
        return []


def last_token_layer(
    model: keras.Model, layers: Sequence[tuple[str, keras.layers.Layer]]
) -> keras.layers.Layer | None:
    """The last of `layers` (`(path, layer)` in call order) whose patch tokens the output
    reads (see `influential_layers`), or `None` when no layer has a token grid (or the
    model cannot be probed: its input shape is not fixed, or it has several inputs).

    Args:
        model: A Keras model with a known input shape.
        layers: `(path, layer)` pairs of candidate leaf layers, in call order.

    Returns:
        A layer or `None`.

    Example:
        >>> last_token_layer(vit, layer_paths(vit)).name  # a class-token ViT
        'block2_norm1'
    """
    found = _probe(model, [layer for _, layer in layers], None)
    reading = [layer for layer, reads in found if reads]
    return reading[-1] if reading else None


def check_influence(
    model: keras.Model,
    layer: keras.layers.Layer,
    path: str,
    candidates: Sequence[keras.layers.Layer],
    tokens: TokenGrid | None = None,
) -> None:
    """Raises when `layer` is a token layer whose patch tokens the output never reads.

    Args:
        model: A Keras model with a known input shape.
        layer: The chosen layer.
        path: Its path, for the message.
        candidates: The model's leaf layers in call order (for a suggestion).
        tokens: The user's `TokenGrid`, or `None`.

    Raises:
        ValueError: Naming the layer and the last earlier token layer whose patches are
            read, e.g. a block's first LayerNorm before the last attention.

    Example:
        >>> check_influence(vit, vit.get_layer("norm"), "norm", vit.layers)
        Traceback (most recent call last):
        ValueError: layer: the patch tokens of 'norm' do not influence the model's output ...
    """
    layers = list(candidates) + ([] if any(c is layer for c in candidates) else [layer])
    found = _probe(model, layers, tokens)
    verdict = [reads for found_layer, reads in found if found_layer is layer]
    if not verdict or verdict[0]:
        return
    earlier = []
    for found_layer, reads in found:
        if found_layer is layer:
            break
        if reads:
            earlier.append(found_layer.name)
    hint = f"e.g. {earlier[-1]!r} (the last one whose patches are read)" if earlier else ""
    raise ValueError(
        f"layer: the patch tokens of {path!r} do not influence the model's output (their "
        f"gradient is zero: after the last block of a class-token ViT only the class token "
        f"is read), so its maps would be blank; choose an earlier token layer{', ' if hint else ''}"
        f"{hint}, such as the last block's first LayerNorm, or layer=None to pick one."
    )
