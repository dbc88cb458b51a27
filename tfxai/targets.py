"""Targets: differentiable per-sample scores ("higher is better") of shape `(batch,)`.

A `Target` is shared by every explainer: CAMs, attributions, feature visualization and
metrics. It turns the model output (logits, see `tfxai.engine`) into one score per sample.

A target has three parts:

- `bind(batch)` returns its per-sample parameters (class ids, masks) as numpy arrays with a
  leading batch axis, so that the engine can split them with the inputs;
- `score(outputs, params)` computes the `(batch,)` scores inside the compiled graph;
- `key` is a hashable description of the graph it builds: two targets with the same key
  share one compiled function, whatever their parameter values.
"""

import numbers

import numpy as np
import tensorflow as tf


class Target:
    """A differentiable per-sample score of shape `(batch,)`.

    Build targets with the factories (`class_score`, `mask_score`, `predicted`,
    `from_callable`) or from the shorthands accepted by `to_target`. Arithmetic with scalars
    and between targets returns a new target; nothing is mutated.

    Args:
        score_fn: Callable `(outputs, params) -> (batch,)` run inside the graph.
        bind_fn: Callable `(batch) -> params`, default `None` (no parameters).
        key: Hashable, the structure of the graph `score_fn` builds.
        check_fn: Callable `(output_shape, batch) -> None` raising `ValueError` when the
            target does not fit the model output, default `None`.
        name: String, default `"target"`. Shown in `repr` and error messages.
        layers: Tuple of layer references, default `()`. Inner layers whose activations
            `score_fn` reads (feature-visualization objectives); empty for targets on the
            model output.
        batch: Integer or `None` (default). The batch size the target's parameters fix
            (one channel per sample, say); `None` fits any batch.
        reads: String, default "outputs". What `score_fn` receives: `"outputs"` (the
            model output) or `"context"` (a `tfxai.featurevis.objectives.Context`).

    Example:
        >>> t = class_score(3) - 0.5 * class_score(7)
        >>> t.bind(2)
        ((array([3, 3], dtype=int32),), (array([7, 7], dtype=int32),))
    """

    def __init__(
        self,
        score_fn,
        bind_fn=None,
        key=None,
        check_fn=None,
        name="target",
        *,
        layers=(),
        batch=None,
        reads="outputs",
    ):
        self._score_fn = score_fn
        self._bind_fn = bind_fn
        self._check_fn = check_fn
        self.key = key if key is not None else ("fn", score_fn)
        self.name = name
        self.layers = tuple(layers)
        self.batch = batch
        self.reads = reads

    def __repr__(self):
        return f"<Target {self.name}>"

    def bind(self, batch):
        """Returns the per-sample parameters for a batch of `batch` samples."""
        return () if self._bind_fn is None else self._bind_fn(batch)

    def check(self, output_shape, batch):
        """Raises `ValueError` if the target does not fit an output of `output_shape`."""
        if self._check_fn is not None:
            shape = output_shape if isinstance(output_shape, dict) else tuple(output_shape)
            self._check_fn(shape, batch)

    def score(self, outputs, params):
        """Returns the `(batch,)` float32 scores of `outputs` (inside the graph)."""
        scores = self._score_fn(outputs, params)
        if scores.shape.rank != 1:
            raise ValueError(
                f"target: {self.name} must return one score per sample, shape (batch,); "
                f"got shape {tuple(scores.shape)}."
            )
        return tf.cast(scores, tf.float32)

    def on_outputs(self, transform, label, reads=None):
        """A new target scoring `transform(outputs)` instead of the outputs.

        Args:
            transform: Callable on the output tensor, inside the graph (e.g. a softmax).
            label: String naming the transform; part of the new target's `key`.
            reads: String or `None` (default: the same as this target). What the new
                target receives, when `transform` takes something else.

        Returns:
            A `Target` with the same parameters and checks.
        """
        return Target(
            lambda out, p: self._score_fn(transform(out), p),
            self._bind_fn,
            key=(label, self.key),
            check_fn=self._check_fn,
            name=f"{self.name} on {label}",
            layers=self.layers,
            batch=self.batch,
            reads=reads or self.reads,
        )

    def mean_over_pixels(self):
        """A new target: on dense outputs `(B, H, W, K)` this target's score divided by its
        score on an all-ones output (the pixel weight it sums: a mask's weight, or every
        pixel), i.e. a mean over its pixels; on `(B, K)` outputs the same score."""

        def score(outputs, params):
            value = self._score_fn(outputs, params)
            if outputs.shape.rank <= 2:
                return value
            return tf.math.divide_no_nan(value, self._score_fn(tf.ones_like(outputs), params))

        return Target(
            score,
            self._bind_fn,
            key=("mean over pixels", self.key),
            check_fn=self._check_fn,
            name=f"mean of {self.name} over its pixels",
            layers=self.layers,
            batch=self.batch,
            reads=self.reads,
        )

    def _combine(self, other, op, symbol):
        if isinstance(other, Target):
            if self.reads != other.reads:
                raise ValueError(
                    f"target: cannot combine {self.name} (scores the {self.reads}) with "
                    f"{other.name} (scores the {other.reads}); for feature visualization use "
                    f"tfxai.featurevis objectives (class_logit, segmentation_class, ...)."
                )
            layers = self.layers + tuple(r for r in other.layers if r not in self.layers)
            return Target(
                lambda out, p: op(self._score_fn(out, p[0]), other._score_fn(out, p[1])),
                lambda b: (self.bind(b), other.bind(b)),
                key=(symbol, self.key, other.key),
                check_fn=lambda shape, b: (self.check(shape, b), other.check(shape, b)),
                name=f"({self.name} {symbol} {other.name})",
                layers=layers,
                batch=_common_batch(self, other),
                reads=self.reads,
            )
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            value = float(other)
            return Target(
                lambda out, p: op(self._score_fn(out, p), value),
                self.bind,
                key=(symbol, self.key, value),
                check_fn=self.check,
                name=f"({self.name} {symbol} {value:g})",
                layers=self.layers,
                batch=self.batch,
                reads=self.reads,
            )
        return NotImplemented

    def _combine_right(self, other, op, symbol):
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            value = float(other)
            return Target(
                lambda out, p: op(value, self._score_fn(out, p)),
                self.bind,
                key=("r" + symbol, self.key, value),
                check_fn=self.check,
                name=f"({value:g} {symbol} {self.name})",
                layers=self.layers,
                batch=self.batch,
                reads=self.reads,
            )
        return NotImplemented

    def __add__(self, other):
        return self._combine(other, tf.add, "+")

    def __sub__(self, other):
        return self._combine(other, tf.subtract, "-")

    def __mul__(self, other):
        return self._combine(other, tf.multiply, "*")

    def __truediv__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            raise ZeroDivisionError("target: division of a target by zero.")
        return self._combine(other, tf.divide, "/")

    def __radd__(self, other):
        return self._combine_right(other, tf.add, "+")

    def __rsub__(self, other):
        return self._combine_right(other, tf.subtract, "-")

    def __rmul__(self, other):
        return self._combine_right(other, tf.multiply, "*")

    def __neg__(self):
        return self * -1.0


def _common_batch(first, second):
    """The batch two combined targets fix, or `None`; raises if they disagree."""
    if first.batch is not None and second.batch is not None and first.batch != second.batch:
        raise ValueError(
            f"target: {first.name} has parameters for {first.batch} samples "
            f"and {second.name} for {second.batch}; expected the same count."
        )
    return first.batch if first.batch is not None else second.batch


def _class_axis_size(output_shape):
    return output_shape[-1]


def _check_class_ids(ids, output_shape, name):
    classes = _class_axis_size(output_shape)
    if classes is None:
        return
    bad = [int(i) for i in np.atleast_1d(ids) if not 0 <= int(i) < classes]
    if bad:
        raise ValueError(
            f"{name}: class index {bad[0]} is out of range; the model output has {classes} "
            f"classes, so expected an index in [0, {classes - 1}]."
        )


def _class_ids(classes, batch, name):
    """Broadcasts an int or a per-sample sequence of ints to an int32 array `(batch,)`."""
    ids = np.asarray(classes)
    if ids.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected an int or a sequence of ints (one per sample), got {classes!r}."
        )
    if ids.ndim == 0:
        return np.full((batch,), int(ids), dtype=np.int32)
    if ids.ndim != 1 or len(ids) != batch:
        raise ValueError(
            f"{name}: expected one class index per sample ({batch} for this batch), got "
            f"{len(ids) if ids.ndim == 1 else 'shape ' + str(ids.shape)} values."
        )
    return ids.astype(np.int32)


def _gather_class(outputs, ids):
    """Per-sample class logit from `(B, K)` outputs, or its sum over pixels for `(B, ..., K)`."""
    per_class = outputs
    if outputs.shape.rank > 2:
        per_class = tf.reduce_sum(outputs, axis=list(range(1, outputs.shape.rank - 1)))
    return tf.gather(per_class, ids, axis=-1, batch_dims=1)


def class_score(classes, *, name="target"):
    """Target: the logit of a class per sample (summed over pixels for dense outputs).

    Args:
        classes: Integer, or a sequence of integers with one class per sample.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        TypeError: If `classes` is not an int or a sequence of ints.
        ValueError: At call time, if a class is out of range or the sequence length does
            not match the batch.

    Example:
        >>> cams = tfxai.grad_cam(model, images, target=class_score([3, 5]))
    """
    _class_ids(classes, 1 if np.ndim(classes) == 0 else len(classes), name)
    label = f"class_score({classes!r})"
    return Target(
        lambda out, p: _gather_class(out, p[0]),
        lambda b: (_class_ids(classes, b, name),),
        key=("class_score",),
        check_fn=lambda shape, b: _check_class_ids(classes, shape, name),
        name=label,
        batch=None if np.ndim(classes) == 0 else len(classes),
    )


def predicted(*, name="target"):
    """Target: the score of the predicted (highest-logit) class of each sample.

    For dense outputs `(B, H, W, K)` the predicted class is the one with the largest mean
    logit over the map, and the score is its logit summed over the pixels predicted as that
    class (Seg-Grad-CAM's pixel set).

    Args:
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` with no parameters.

    Example:
        >>> cams = tfxai.grad_cam(model, images)  # target=None is predicted()
    """
    return Target(_predicted_score, key=("predicted",), name="predicted()")


def _predicted_score(outputs, params):
    if outputs.shape.rank == 2:
        return tf.reduce_max(outputs, axis=-1)
    spatial = list(range(1, outputs.shape.rank - 1))
    ids = tf.argmax(tf.reduce_mean(outputs, axis=spatial), axis=-1, output_type=tf.int32)
    pixel_class = tf.argmax(outputs, axis=-1, output_type=tf.int32)
    logit = tf.gather(outputs, ids, axis=-1, batch_dims=1)
    expand = tf.reshape(ids, [-1] + [1] * len(spatial))
    chosen = tf.cast(tf.equal(pixel_class, expand), outputs.dtype)
    return tf.reduce_sum(logit * chosen, axis=spatial)


def mask_score(classes, mask, *, name="target"):
    """Target: a class logit summed over a pixel mask of a dense `(B, H, W, K)` output.

    This is Seg-Grad-CAM's target for segmentation heads.

    Args:
        classes: Integer, or a sequence of integers with one class per sample.
        mask: Array `(H, W)` shared by the batch or `(B, H, W)` per sample; boolean or
            float weights, at the model output's resolution.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        ValueError: If `mask` is not 2-D/3-D, is empty of pixels, is not finite, or (at call
            time) its size differs from the output map or its batch from the inputs.

    Example:
        >>> road = prediction.argmax(-1) == 1
        >>> cams = tfxai.grad_cam(unet, images, target=mask_score(1, road))

    Reference:
        Vinogradova et al., "Towards Interpretable Semantic Segmentation via Gradient-weighted
        Class Activation Mapping", 2020. https://arxiv.org/abs/2002.11434
    """
    weights = np.asarray(mask, dtype=np.float32)
    if weights.ndim not in (2, 3):
        raise ValueError(f"mask: expected shape (H, W) or (batch, H, W), got {weights.shape}.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("mask: contains NaN or Inf values; expected finite weights.")
    empty = ~np.any(weights.reshape((-1,) + weights.shape[-2:]) != 0, axis=(1, 2))
    if np.any(empty):
        which = "the mask" if weights.ndim == 2 else f"mask {int(np.argmax(empty))}"
        raise ValueError(
            f"mask: {which} has no pixel (all zero), so its score and every map "
            f"would be zero; expected at least one pixel per mask."
        )
    label = f"mask_score({classes!r}, mask{weights.shape})"

    def bind(batch):
        if weights.ndim == 3 and weights.shape[0] != batch:
            raise ValueError(
                f"mask: expected one mask per sample ({batch}) or a single (H, W) mask, got "
                f"{weights.shape[0]} masks."
            )
        masks = np.broadcast_to(weights, (batch,) + weights.shape[-2:])
        return _class_ids(classes, batch, name), np.ascontiguousarray(masks)

    def check(shape, batch):
        if len(shape) != 4:
            raise ValueError(
                f"{name}: mask_score needs a dense (batch, H, W, classes) model output, got "
                f"an output of shape {shape}."
            )
        if tuple(weights.shape[-2:]) != tuple(shape[1:3]) and None not in shape[1:3]:
            raise ValueError(
                f"mask: expected a mask of the output map size {tuple(shape[1:3])}, got "
                f"{tuple(weights.shape[-2:])}."
            )
        _check_class_ids(classes, shape, name)

    sizes = [len(classes)] if np.ndim(classes) == 1 else []
    sizes += [weights.shape[0]] if weights.ndim == 3 else []
    return Target(
        _mask_score,
        bind,
        key=("mask_score",),
        check_fn=check,
        name=label,
        batch=sizes[0] if sizes else None,
    )


def _mask_score(outputs, params):
    ids, masks = params
    logit = tf.gather(outputs, ids, axis=-1, batch_dims=1)
    return tf.reduce_sum(logit * tf.cast(masks, logit.dtype), axis=[1, 2])


LABELS = ("labels",)


def labels(*, name="target"):
    """Target: the class in each `(x, y)` element's labels `y` of a `tf.data.Dataset`.

    `y` holds class ids `(B,)` or one-hot / probability rows `(B, K)`; it is read batch by
    batch with the images, so a shuffled dataset stays aligned. Only datasets carry
    labels: with arrays, pass the classes themselves (`target=labels_array`).

    Args:
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` that the explainers replace by `class_score` of each batch's labels.

    Example:
        >>> cams = tfxai.grad_cam(model, dataset.take(10), target="labels")
    """

    def score(outputs, params):
        raise ValueError(
            f"{name}: 'labels' takes each image's class from the (x, y) "
            f"elements of a tf.data.Dataset; with arrays pass the classes."
        )

    return Target(score, key=LABELS, name="labels")


def label_classes(values, count, name="target"):
    """Class ids int32 `(count,)` from labels: ids `(count,)` or `(count, 1)`, or one-hot /
    probability rows `(count, K)` (their argmax).

    Raises:
        ValueError: For labels of another shape (e.g. segmentation masks) or fractional ids.
        TypeError: For non-numeric labels.
    """
    array = np.asarray(values.numpy() if isinstance(values, tf.Tensor) else values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric labels, got dtype {array.dtype}.")
    if array.ndim == 2 and array.shape == (count, 1):
        array = array[:, 0]
    elif array.ndim == 2 and array.shape[0] == count:
        array = array.argmax(axis=-1)
    if array.shape != (count,):
        raise ValueError(
            f"{name}: 'labels' needs class ids (batch,) or one-hot rows "
            f"(batch, classes) for {count} images, got labels of shape "
            f"{array.shape}."
        )
    if array.dtype.kind == "f" and not np.all(array == np.round(array)):
        raise ValueError(f"{name}: 'labels' needs integer class ids, got fractions.")
    return array.astype(np.int32)


def from_callable(fn, *, name="target"):
    """Target from a user function `fn(outputs) -> (batch,)` on the model output (logits).

    Args:
        fn: Callable taking the output tensor and returning one score per sample.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target` whose graph is keyed on `fn` itself.

    Example:
        >>> t = from_callable(lambda y: y[:, 3] - y[:, 5])
    """
    label = getattr(fn, "__name__", type(fn).__name__)
    return Target(lambda out, p: fn(out), key=("callable", fn), name=f"callable {label}")


def to_target(target, *, name="target"):
    """Converts a target shorthand to a `Target`.

    Args:
        target: `None` (the predicted class), an int, a sequence of ints (one per sample),
            `"labels"` (the `y` of a dataset's `(x, y)` elements), a callable on the model
            output, or a `Target`.
        name: String, default "target". The argument name used in error messages.

    Returns:
        A `Target`.

    Raises:
        TypeError: If `target` is none of the above.
    """
    if isinstance(target, Target):
        return target
    if target is None:
        return predicted(name=name)
    if isinstance(target, str) and target == "labels":
        return labels(name=name)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a class index, got the boolean {target!r}.")
    if isinstance(target, (numbers.Integral, list, tuple, np.ndarray)):
        return class_score(target, name=name)
    if callable(target):
        return from_callable(target, name=name)
    raise TypeError(
        f"{name}: expected None, an int, a sequence of ints, 'labels', a callable on the "
        f"model output or a tfxai Target, got {target!r}."
    )
