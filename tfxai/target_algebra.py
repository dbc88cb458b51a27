"""The Target algebra: a differentiable per-sample score and its arithmetic.

A `Target` is shared by every explainer: CAMs, attributions, feature visualization and
metrics. It turns the model output (logits, see `tfxai.engine`) into one score per sample
of shape `(batch,)`, "higher is better". The factories that build targets are in
`tfxai.targets`.

A target has three parts:

- `bind(batch)` returns its per-sample parameters (class ids, masks) as numpy arrays with a
  leading batch axis, so that the engine can split them with the inputs;
- `score(outputs, params)` computes the `(batch,)` scores inside the compiled graph;
- `key` is a hashable description of the graph it builds: two targets with the same key
  share one compiled function, whatever their parameter values.

Arithmetic (`+ - * /` with scalars and between targets, unary `-`) returns a new target;
nothing is mutated.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import tensorflow as tf

ScoreFn = Callable[[Any, Any], tf.Tensor]


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
            model output) or `"context"` (a `tfxai.featurevis.context.Context`).

    Example:
        >>> t = class_score(3) - 0.5 * class_score(7)
        >>> t.bind(2)
        ((array([3, 3], dtype=int32),), (array([7, 7], dtype=int32),))
    """

    def __init__(
        self,
        score_fn: ScoreFn,
        bind_fn: Callable[[int], Any] | None = None,
        key: Hashable = None,
        check_fn: Callable[[Any, int], None] | None = None,
        name: str = "target",
        *,
        layers: Sequence[Any] = (),
        batch: int | None = None,
        reads: str = "outputs",
    ) -> None:
        self._score_fn = score_fn
        self._bind_fn = bind_fn
        self._check_fn = check_fn
        self.key = key if key is not None else ("fn", score_fn)
        self.name = name
        self.layers = tuple(layers)
        self.batch = batch
        self.reads = reads

    def __repr__(self) -> str:
        return f"<Target {self.name}>"

    def bind(self, batch: int) -> Any:
        """Returns the per-sample parameters for a batch of `batch` samples.

        Args:
            batch: Integer, the batch size.

        Returns:
            A nested tuple of numpy arrays with a leading batch axis (`()` for none).
        """
        return () if self._bind_fn is None else self._bind_fn(batch)

    def check(self, output_shape: Any, batch: int) -> None:
        """Raises `ValueError` if the target does not fit an output of `output_shape`.

        Args:
            output_shape: Tuple, the shape of the scored output (a dict of shapes for
                feature-visualization objectives).
            batch: Integer, the batch size.

        Raises:
            ValueError: If the target does not fit.
        """
        if self._check_fn is not None:
            shape = output_shape if isinstance(output_shape, dict) else tuple(output_shape)
            self._check_fn(shape, batch)

    def score(self, outputs: Any, params: Any) -> tf.Tensor:
        """Returns the `(batch,)` float32 scores of `outputs` (inside the graph).

        Args:
            outputs: The scored output tensor (or a `Context` for objectives).
            params: This batch's parameters, as `bind` made them (as tensors).

        Returns:
            float32 tensor `(batch,)`.

        Raises:
            ValueError: If the score is not one value per sample.
        """
        scores = self._score_fn(outputs, params)
        if scores.shape.rank != 1:
            raise ValueError(
                f"target: {self.name} must return one score per sample, shape (batch,); "
                f"got shape {tuple(scores.shape)}."
            )
        return tf.cast(scores, tf.float32)

    def on_outputs(
        self, transform: Callable[[Any], Any], label: str, reads: str | None = None
    ) -> Target:
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

    def mean_over_pixels(self) -> Target:
        """A new target: this target's score as a mean over the pixels it sums.

        On dense outputs `(B, H, W, K)` the score is divided by the score on an all-ones
        output (the pixel weight it sums: a mask's weight, or every pixel); on `(B, K)`
        outputs it is the same score.

        Returns:
            A `Target`.
        """

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
                check_fn=lambda shape, b: _check_both(self, other, shape, b),
                name=f"({self.name} {symbol} {other.name})",
                layers=layers,
                batch=_common_batch(self, other),
                reads=self.reads,
            )
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
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
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
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

    def __add__(self, other: Any) -> Target:
        return self._combine(other, tf.add, "+")

    def __sub__(self, other: Any) -> Target:
        return self._combine(other, tf.subtract, "-")

    def __mul__(self, other: Any) -> Target:
        return self._combine(other, tf.multiply, "*")

    def __truediv__(self, other: Any) -> Target:
        if isinstance(other, numbers.Number) and other == 0:
            raise ZeroDivisionError("target: division of a target by zero.")
        return self._combine(other, tf.divide, "/")

    def __radd__(self, other: Any) -> Target:
        return self._combine_right(other, tf.add, "+")

    def __rsub__(self, other: Any) -> Target:
        return self._combine_right(other, tf.subtract, "-")

    def __rmul__(self, other: Any) -> Target:
        return self._combine_right(other, tf.multiply, "*")

    def __neg__(self) -> Target:
        return self * -1.0


def _common_batch(first, second):
    """The batch two combined targets fix, or `None`; raises if they disagree."""
    if first.batch is not None and second.batch is not None and first.batch != second.batch:
        raise ValueError(
            f"target: {first.name} has parameters for {first.batch} samples "
            f"and {second.name} for {second.batch}; expected the same count."
        )
    return first.batch if first.batch is not None else second.batch


def _check_both(first: Target, second: Target, shape: Any, batch: int) -> None:
    """Checks both operands of a combined target against the output."""
    first.check(shape, batch)
    second.check(shape, batch)
