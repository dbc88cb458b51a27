"""Feature-visualization objectives: `Target`s on inner layers, the logits and the image.

An objective is a `tfxai.targets.Target` whose `score` receives a `Context` instead of the
model output: the activations of the layers it names (`target.layers`), the logits and
the images being optimized. Objectives compose with `+ - * /` like every target
(`channel("mixed4a", 97) - 0.1 * diversity("mixed4a")`), and "higher is better".

Per-sample parameters make one batch optimize many objectives at once:
`channel(layer, [0, 1, 2, 3])` renders channels 0-3 as four images of one batch. The
parameters are graph inputs, so the next four channels reuse the same compiled step.
"""

import dataclasses
import functools
import numbers

import numpy as np
import tensorflow as tf

from tfxai import targets


@dataclasses.dataclass(frozen=True)
class Context:
    """What an objective scores, inside the compiled step.

    Attributes:
        activations: Dict `{layer reference: tensor}` of the layers the objective names.
        logits: The model output behind a softmax/sigmoid, `(B, K)` or `(B, H, W, K)`.
        images: The images being optimized, `(B, H, W, C)` in [0, 1], before transforms.
    """

    activations: dict
    logits: tf.Tensor
    images: tf.Tensor

    def activation(self, layer):
        """The activations `(B, ..., C)` of `layer` (a reference the objective named)."""
        return self.activations[layer_key(layer)]


_objective = functools.partial(targets.Target, reads="context")  # scores a `Context`


def layer_key(layer):
    """A hashable key for a layer reference: the name or path, the index, or the object."""
    if isinstance(layer, (str, numbers.Integral)):
        return layer
    return ("layer", id(layer))


def _label(layer):
    return layer if isinstance(layer, (str, numbers.Integral)) else getattr(layer, "name", "?")


def _check_layer(layer):
    if layer is None or isinstance(layer, bool):
        raise ValueError(
            f"layer: expected a layer name, nested path, index or layer, got {layer!r}."
        )
    return layer


def _indices(values, name):
    """An int32 array from an int or a sequence of non-negative ints; batch or None."""
    array = np.asarray(values)
    if (
        array.ndim > 1
        or array.size == 0
        or not np.issubdtype(array.dtype, np.integer)
        or isinstance(values, bool)
        or np.any(array < 0)
    ):
        raise ValueError(
            f"{name}: expected a non-negative integer or a non-empty list of "
            f"them (one per image), got {values!r}."
        )
    return array.astype(np.int32), (None if array.ndim == 0 else len(array))


def _bind_indices(array, name):
    def bind(batch):
        if array.ndim == 0:
            return np.full(batch, array, dtype=np.int32)
        if len(array) != batch:
            raise ValueError(
                f"{name}: got {len(array)} values for a batch of {batch} images; "
                f"expected one per image."
            )
        return array

    return bind


def _check_channels(layer, ids, name):
    def check(shapes, batch):
        channels = shapes["layers"][layer_key(layer)][-1]
        bad = [int(i) for i in np.atleast_1d(ids) if int(i) >= channels]
        if bad:
            raise ValueError(
                f"{name}: index {bad[0]} is out of range; layer "
                f"{_label(layer)!r} has {channels} channels."
            )

    return check


def _spatial_mean(values):
    axes = list(range(1, values.shape.rank))
    return tf.reduce_mean(values, axis=axes) if axes else values


def _pick_channel(activations, ids):
    """Per-sample channel `ids[i]` of `(B, ..., C)` activations, float32 `(B, ...)`."""
    activations = tf.cast(activations, tf.float32)
    one_hot = tf.one_hot(ids, tf.shape(activations)[-1], dtype=tf.float32)
    for _ in range(activations.shape.rank - 2):
        one_hot = one_hot[:, None]
    return tf.reduce_sum(activations * one_hot, axis=-1)


def channel(layer, channels):
    """Objective: the mean activation of a channel of `layer` over all positions.

    Args:
        layer: Layer name, nested path (`"resnet50/conv4_block6_out"`), index or layer.
        channels: Integer, or a list of integers with one channel per image.

    Returns:
        A `Target` objective; `batch` is `len(channels)` for a list.

    Raises:
        ValueError: On a bad `layer` or `channels`; at render time, on a channel out of
            range.

    Example:
        >>> tfxai.render(model, channel("conv5_block3_out", [0, 1, 2, 3]), steps=256)

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    layer = _check_layer(layer)
    ids, batch = _indices(channels, "channels")
    return _objective(
        lambda ctx, p: _spatial_mean(_pick_channel(ctx.activation(layer), p)),
        _bind_indices(ids, "channels"),
        key=("channel", layer_key(layer)),
        check_fn=_check_channels(layer, ids, "channels"),
        name=f"channel({_label(layer)!r}, {channels!r})",
        layers=(layer,),
        batch=batch,
    )


def neuron(layer, channels, y=None, x=None):
    """Objective: one unit of a channel, at position `(y, x)` (default: the center).

    Args:
        layer: Layer reference, as in `channel`.
        channels: Integer, or a list of integers with one channel per image.
        y: Integer or `None` (default, the middle row of the activation map).
        x: Integer or `None` (default, the middle column).

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad arguments; at render time, on a position out of range.

    Example:
        >>> tfxai.render(model, neuron("conv4_block6_out", 12))
    """
    layer = _check_layer(layer)
    ids, batch = _indices(channels, "channels")
    for value, name in ((y, "y"), (x, "x")):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0
        ):
            raise ValueError(f"{name}: expected a non-negative integer or None, got {value!r}.")

    def score(ctx, p):
        values = _pick_channel(ctx.activation(layer), p)
        if values.shape.rank != 3:
            raise ValueError(
                f"layer: neuron needs a (B, H, W, C) layer; {_label(layer)!r} "
                f"gives rank {values.shape.rank + 1}."
            )
        row = values.shape[1] // 2 if y is None else y
        col = values.shape[2] // 2 if x is None else x
        if row >= values.shape[1] or col >= values.shape[2]:
            raise ValueError(
                f"y, x: position ({row}, {col}) is outside the "
                f"{values.shape[1]}x{values.shape[2]} map of {_label(layer)!r}."
            )
        return values[:, row, col]

    return _objective(
        score,
        _bind_indices(ids, "channels"),
        key=("neuron", layer_key(layer), y, x),
        check_fn=_check_channels(layer, ids, "channels"),
        name=f"neuron({_label(layer)!r}, {channels!r}, {y}, {x})",
        layers=(layer,),
        batch=batch,
    )


def layer_energy(layer):
    """Objective: the mean squared activation of `layer` (DeepDream).

    Args:
        layer: Layer reference, as in `channel`.

    Returns:
        A `Target` objective.

    Example:
        >>> tfxai.render(model, layer_energy("conv3_block4_out"))

    Reference:
        Mordvintsev et al., "Inceptionism: Going Deeper into Neural Networks", 2015.
        https://research.google/blog/inceptionism-going-deeper-into-neural-networks/
    """
    layer = _check_layer(layer)
    return _objective(
        lambda ctx, p: _spatial_mean(tf.square(tf.cast(ctx.activation(layer), tf.float32))),
        key=("layer_energy", layer_key(layer)),
        name=f"layer_energy({_label(layer)!r})",
        layers=(layer,),
    )


def direction(layer, vector):
    """Objective: the activations projected on a direction, averaged over positions.

    Args:
        layer: Layer reference, as in `channel`.
        vector: Array `(C,)` (one direction) or `(B, C)` (one per image), not all zero.

    Returns:
        A `Target` objective: `mean over positions of <a, v> / |v|`.

    Raises:
        ValueError: On a bad `vector`; at render time, if its length is not `C`.

    Example:
        >>> tfxai.render(model, direction("conv4_block6_out", np.random.randn(1024)))
    """
    layer = _check_layer(layer)
    try:
        array = None if isinstance(vector, str) else np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError):
        array = None
    if (
        array is None
        or array.ndim not in (1, 2)
        or array.size == 0
        or not np.all(np.isfinite(array))
        or np.any(np.linalg.norm(array, axis=-1) == 0)
    ):
        raise ValueError(
            f"vector: expected a finite non-zero array (C,) or (B, C), got {vector!r:.60}."
        )
    unit = array / np.linalg.norm(array, axis=-1, keepdims=True)

    def bind(batch):
        if unit.ndim == 1:
            return np.broadcast_to(unit, (batch,) + unit.shape).copy()
        if len(unit) != batch:
            raise ValueError(f"vector: got {len(unit)} directions for a batch of {batch}.")
        return unit

    def check(shapes, batch):
        channels = shapes["layers"][layer_key(layer)][-1]
        if unit.shape[-1] != channels:
            raise ValueError(
                f"vector: has length {unit.shape[-1]}; layer {_label(layer)!r} "
                f"has {channels} channels."
            )

    def score(ctx, p):
        values = tf.cast(ctx.activation(layer), tf.float32)
        weights = p
        for _ in range(values.shape.rank - 2):
            weights = weights[:, None]
        return _spatial_mean(tf.reduce_sum(values * weights, axis=-1))

    return _objective(
        score,
        bind,
        key=("direction", layer_key(layer)),
        check_fn=check,
        name=f"direction({_label(layer)!r})",
        layers=(layer,),
        batch=None if unit.ndim == 1 else len(unit),
    )


def class_logit(classes):
    """Objective: the pre-softmax logit of a class (the model's own output if no softmax).

    Args:
        classes: Integer, or a list of integers with one class per image.

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad `classes`; at render time, on a class out of range or a model
            whose output is not `(B, K)` (use `segmentation_class` for dense outputs).

    Example:
        >>> tfxai.render(model, class_logit([0, 1, 2, 3, 4]))
    """
    ids, batch = _indices(classes, "classes")

    def check(shapes, batch_size):
        shape = shapes["logits"]
        if len(shape) != 2:
            raise ValueError(
                f"classes: class_logit needs a (B, K) model output, got "
                f"{shape}; use segmentation_class for per-pixel outputs."
            )
        bad = [int(i) for i in np.atleast_1d(ids) if int(i) >= shape[-1]]
        if bad:
            raise ValueError(
                f"classes: class index {bad[0]} is out of range; the model "
                f"output has {shape[-1]} classes."
            )

    return _objective(
        lambda ctx, p: _pick_channel(ctx.logits, p),
        _bind_indices(ids, "classes"),
        key=("class_logit",),
        check_fn=check,
        name=f"class_logit({classes!r})",
        batch=batch,
    )


def _region_mask(region, height, width):
    """A float32 `(H, W)` mask from `None`, a box `(y0, x0, y1, x1)` or a boolean array."""
    if region is None:
        return np.ones((height, width), np.float32)
    array = np.asarray(region)
    if array.shape == (4,) and np.issubdtype(array.dtype, np.integer):
        y0, x0, y1, x1 = (int(v) for v in array)
        if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
            raise ValueError(
                f"region: box {tuple(array)} is not inside the {height}x{width} "
                f"output map; expected 0 <= y0 < y1 <= H and 0 <= x0 < x1 <= W."
            )
        mask = np.zeros((height, width), np.float32)
        mask[y0:y1, x0:x1] = 1.0
        return mask
    if array.shape != (height, width):
        raise ValueError(
            f"region: expected None, a box (y0, x0, y1, x1) or a boolean mask "
            f"of the output map's shape ({height}, {width}), got shape "
            f"{array.shape}."
        )
    if not array.any():
        raise ValueError("region: the mask selects no pixel.")
    return array.astype(bool).astype(np.float32)


def segmentation_class(classes, region=None):
    """Objective: a class logit of a segmentation head, averaged over a pixel region.

    Args:
        classes: Integer, or a list of integers with one class per image.
        region: `None` (default, the whole map), a box `(y0, x0, y1, x1)` of output-map
            pixels (end exclusive), or a boolean mask `(H, W)` of the output map.

    Returns:
        A `Target` objective.

    Raises:
        ValueError: On bad `classes`; at render time, on a class out of range, a bad
            `region` or a model whose output is not `(B, H, W, K)`.

    Example:
        >>> tfxai.render(unet, segmentation_class(2, region=(24, 24, 72, 72)))

    Reference:
        Vinogradova et al., "Towards Interpretable Semantic Segmentation via
        Gradient-weighted Class Activation Mapping", AAAI 2020.
        https://arxiv.org/abs/2002.11434
    """
    ids, batch = _indices(classes, "classes")
    if region is not None and not isinstance(region, (tuple, list, np.ndarray)):
        raise ValueError(
            f"region: expected None, a box (y0, x0, y1, x1) or a boolean "
            f"mask, got {type(region).__name__}."
        )

    def check(shapes, batch_size):
        shape = shapes["logits"]
        if len(shape) != 4:
            raise ValueError(
                f"classes: segmentation_class needs a (B, H, W, K) model "
                f"output, got {shape}; use class_logit for (B, K) outputs."
            )
        _region_mask(region, shape[1], shape[2])
        bad = [int(i) for i in np.atleast_1d(ids) if int(i) >= shape[-1]]
        if bad:
            raise ValueError(
                f"classes: class index {bad[0]} is out of range; the model "
                f"output has {shape[-1]} classes."
            )

    def score(ctx, p):
        mask = _region_mask(region, ctx.logits.shape[1], ctx.logits.shape[2])
        values = _pick_channel(ctx.logits, p)
        return tf.reduce_sum(values * mask, axis=[1, 2]) / float(mask.sum())

    region_key = None if region is None else (np.shape(region), np.asarray(region).tobytes())
    return _objective(
        score,
        _bind_indices(ids, "classes"),
        key=("segmentation_class", region_key),
        check_fn=check,
        name=f"segmentation_class({classes!r})",
        batch=batch,
    )


def diversity(layer):
    """Objective: minus the mean cosine similarity of each image's Gram matrix to the others.

    Added to a batch objective (`channel(layer, 5) + 0.1 * diversity(layer)` with
    `batch=4`), it pushes the images of one batch towards different styles. With one image
    it is 0.

    Args:
        layer: Layer reference, as in `channel`.

    Returns:
        A `Target` objective (higher is more diverse).

    Example:
        >>> tfxai.render(model, channel("conv4_block6_out", 7) + 0.2 * diversity(
        ...     "conv3_block4_out"), batch=4)

    Reference:
        Olah et al., "Feature Visualization", Distill 2017 (the diversity section).
        https://distill.pub/2017/feature-visualization/
    """
    layer = _check_layer(layer)

    def score(ctx, p):
        values = tf.cast(ctx.activation(layer), tf.float32)
        flat = tf.reshape(values, [tf.shape(values)[0], -1, tf.shape(values)[-1]])
        gram = tf.matmul(flat, flat, transpose_a=True)
        gram = tf.math.l2_normalize(tf.reshape(gram, [tf.shape(gram)[0], -1]), axis=-1)
        similarity = tf.matmul(gram, gram, transpose_b=True)
        count = tf.cast(tf.shape(similarity)[0], tf.float32)
        others = tf.reduce_sum(similarity, axis=-1) - tf.linalg.diag_part(similarity)
        return -others / tf.maximum(count - 1.0, 1.0)

    return _objective(
        score,
        key=("diversity", layer_key(layer)),
        name=f"diversity({_label(layer)!r})",
        layers=(layer,),
    )


def l1(constant=0.5):
    """Regularizer: the mean absolute distance of the image from `constant` (subtract it).

    Args:
        constant: Float, default 0.5 (mid grey).

    Returns:
        A `Target` (a penalty: use `objective - weight * l1()`).
    """
    value = float(constant)
    return _objective(
        lambda ctx, p: _spatial_mean(tf.abs(ctx.images - value)),
        key=("l1", value),
        name=f"l1({value:g})",
    )


def total_variation():
    """Regularizer: the mean absolute difference of neighbouring pixels (subtract it).

    Returns:
        A `Target` (a penalty: use `objective - weight * total_variation()`).
    """

    def score(ctx, p):
        rows = tf.abs(ctx.images[:, 1:] - ctx.images[:, :-1])
        cols = tf.abs(ctx.images[:, :, 1:] - ctx.images[:, :, :-1])
        return _spatial_mean(rows) + _spatial_mean(cols)

    return _objective(score, key=("total_variation",), name="total_variation()")


def blur():
    """Regularizer: the squared distance of the image from its own 3x3 blur (subtract it).

    The blurred copy is held constant, so the gradient pulls each pixel towards its
    neighbourhood mean (a differentiable form of blurring the image every step).

    Returns:
        A `Target` (a penalty: use `objective - weight * blur()`).
    """

    def score(ctx, p):
        images = ctx.images
        kernel = tf.ones([3, 3, images.shape[-1], 1], images.dtype) / 9.0
        padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
        smooth = tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")
        return 0.5 * _spatial_mean(tf.square(images - tf.stop_gradient(smooth)))

    return _objective(score, key=("blur",), name="blur()")


OBJECTIVES = {
    "channel": channel,
    "neuron": neuron,
    "layer_energy": layer_energy,
    "direction": direction,
    "class_logit": class_logit,
    "segmentation_class": segmentation_class,
    "diversity": diversity,
}
REGULARIZERS = {"l1": l1, "total_variation": total_variation, "blur": blur}
