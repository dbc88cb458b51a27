"""Integrated Gradients: the gradient averaged along a straight path from a baseline.

The path `x0 + a * (x - x0)` is sampled at `steps + 1` points `a = k / steps`, and the
gradients are averaged with the trapezoid rule (end points weighted 1/2). All points of
all images of a batch go through one compiled graph, `batch_size` points per pass, and
the end points give `f(x)` and `f(x0)` for the completeness check at no extra cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.attribution import base, gradients
from tfxai.targets import Target

BASELINES = ("black", "blurred", "uniform")
BLUR_FRACTION = 1 / 16  # Gaussian sigma of the "blurred" baseline, times min(H, W)


def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of `(B, H, W, C)` images or `(B, D, H, W, C)` volumes
    (symmetric borders, every spatial axis), numpy."""
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    if images.ndim == 5:  # each depth slice in-plane, then along the depth
        count, depth, height, width, channels = images.shape
        planes = gaussian_blur(images.reshape(count * depth, height, width, channels), sigma)
        columns = tf.constant(planes.reshape(count, depth, height * width, channels))
        return _blur_axis(columns, taps, radius, 1).numpy().reshape(images.shape)
    x = tf.constant(images, tf.float32)
    for axis in (1, 2):
        x = _blur_axis(x, taps, radius, axis)
    return x.numpy()


def _blur_axis(x, taps, radius, axis):
    """`x` `(B, H, W, C)` convolved with the Gaussian `taps` along `axis` (1 or 2)."""
    pad = min(radius, x.shape[axis])
    kernel = taps[radius - pad : radius + pad + 1]
    kernel = kernel / kernel.sum()
    paddings = [[0, 0], [0, 0], [0, 0], [0, 0]]
    paddings[axis] = [pad, pad]
    x = tf.pad(x, paddings, mode="SYMMETRIC")
    shape = (len(kernel), 1) if axis == 1 else (1, len(kernel))
    filters = np.tile(kernel.reshape(shape + (1, 1)), (1, 1, x.shape[-1], 1))
    return tf.nn.depthwise_conv2d(x, filters, strides=[1, 1, 1, 1], padding="VALID")


def check_baseline(baseline: Any) -> str | np.ndarray:
    """Checks a baseline option; returns it (arrays as float32 numpy)."""
    if isinstance(baseline, (bool, np.bool_)) or getattr(baseline, "dtype", None) == np.bool_:
        got = "a boolean array" if np.ndim(baseline) else repr(baseline)
        raise ValueError(
            f"baseline: expected one of {', '.join(map(repr, BASELINES))}, a "
            f"number or an array, got {got}."
        )
    if isinstance(baseline, str):
        if baseline not in BASELINES:
            raise ValueError(
                f"baseline: expected one of {', '.join(map(repr, BASELINES))} "
                f"or an array, got {baseline!r}."
            )
        return baseline
    try:
        array = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(
            f"baseline: expected one of {', '.join(map(repr, BASELINES))}, a "
            f"number or an array, got {type(baseline).__name__}."
        ) from None
    if array.ndim > 5:
        raise ValueError(
            f"baseline: expected an array of shape (H, W, C), (1, H, W, C) or "
            f"(B, H, W, C) (for volumes (D, H, W, C), (1, D, H, W, C) or "
            f"(B, D, H, W, C)), got shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("baseline: contains NaN or Inf values; expected finite values.")
    return array


class IntegratedGradients(gradients.GradientAttribution):
    """Integrated Gradients: `(x - x0) * mean_a dS/dx(x0 + a (x - x0))` (trapezoid rule).

    Per channel, the attribution is `(x - x0)` times the gradient averaged over `steps`
    intervals of the straight path from the baseline `x0` to `x`. The attributions of an
    image add up to `f(x) - f(x0)` (completeness) up to the integration error, which
    `return_delta=True` reports. `target=None` explains the class predicted on `x` at
    every point of the path.

    Args:
        model: A Keras model; never changed.
        baseline: Default "black". `"black"` (all zeros: black for images in [0, 1] or
            [0, 255]; pass the preprocessed black image otherwise), `"blurred"` (each image
            blurred with a Gaussian of sigma `min(H, W) / 16`), `"uniform"` (uniform noise
            in each image's [min, max], seeded), a number, or an array `(H, W, C)`,
            `(1, H, W, C)` or `(B, H, W, C)` (one per input image). For volumes the
            arrays have a depth axis (`(D, H, W, C)`, ...) and `"blurred"` blurs along
            it too, with sigma `min(D, H, W) / 16`.
        steps: Integer, default 64. Path intervals: `steps + 1` gradient evaluations.
        seed: Integer >= 0, default 0. Seed of the `"uniform"` baseline.
        keep_sign: Boolean, default False. Reduce signed attributions (True) or their
            absolute values (False).
        reduce: String, default "sum". Channel reduction: "max", "mean", "sum" or "norm".
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Raises:
        ValueError: On a bad `baseline` (name or shape), `steps` or `seed`.

    Example:
        >>> ig = IntegratedGradients(model, steps=64, baseline="blurred")
        >>> maps, delta = ig(images, target=[3, 5], return_delta=True)

    Reference:
        Sundararajan et al., "Axiomatic Attribution for Deep Networks", ICML 2017.
        https://arxiv.org/abs/1703.01365
    """

    perturbs = True
    call_options = ("return_delta",)

    def __init__(
        self,
        model: keras.Model,
        *,
        baseline: Any = "black",
        steps: int = 64,
        seed: int = 0,
        keep_sign: bool = False,
        reduce: str = "sum",
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(
            model, keep_sign=keep_sign, reduce=reduce, output=output, logits=logits, input=input
        )
        self.baseline = check_baseline(baseline)
        self.steps = base.positive_int(steps, "steps")
        self.seed = base.check_seed(seed)

    def __repr__(self) -> str:
        kind = self.baseline if isinstance(self.baseline, str) else "array"
        return (
            f"IntegratedGradients(model={self.model.name!r}, baseline={kind!r}, steps={self.steps})"
        )

    def __call__(  # type: ignore[override]  # (maps, delta) with return_delta=True
        self,
        inputs: Any,
        target: Any = None,
        *,
        batch_size: int = 32,
        normalize: bool = True,
        return_delta: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Explains `inputs` for `target`.

        Args:
            inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
            target: `None` (predicted class), int, list of ints, callable or `Target`.
            batch_size: Integer, default 32. Path points per compiled pass.
            normalize: Boolean, default True. Scale each map to [0, 1].
            return_delta: Boolean, default False. Also return the completeness error.

        Returns:
            float32 `(B, H, W)` maps; with `return_delta`, `(maps, delta)` where `delta`
            float64 `(B,)` is `sum(attributions) - (f(x) - f(x0))` per image.
        """
        normalize = base.inputs_lib.check_bool(normalize, "normalize")
        return_delta = base.inputs_lib.check_bool(return_delta, "return_delta")
        maps, delta = self.collect(inputs, target, batch_size, self._maps_and_delta)
        maps = self.finish(maps, normalize)
        return (maps, delta) if return_delta else maps

    def collect(
        self, inputs: Any, target: Any, batch_size: int, fn: Callable[..., tuple]
    ) -> tuple[np.ndarray, ...]:
        images = self.image_part(inputs)
        per_image = (
            not isinstance(self.baseline, str)
            and not isinstance(images, tf.data.Dataset)
            and self.baseline.ndim == max(4, np.ndim(images))  # one per image (or volume)
            and self.baseline.shape[0] != 1
        )
        if per_image:
            count = np.shape(images)[0] if np.ndim(images) else 0
            if count != len(self.baseline):
                raise ValueError(
                    f"baseline: got {len(self.baseline)} baselines for {count} "
                    f"images; expected one per image or a single (H, W, C) "
                    f"baseline."
                )
        return super().collect(inputs, target, batch_size, fn)

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        return self._maps_and_delta(batch, target, params, batch_size, offset)[0]

    def _maps_and_delta(self, batch, target, params, batch_size, offset):
        values, scores = self.attribute_batch(batch, target, params, batch_size, offset)
        ends = scores.reshape(len(batch), self.steps + 1).astype(np.float64)
        delta = values.sum(axis=tuple(range(1, values.ndim)), dtype=np.float64) - (
            ends[:, -1] - ends[:, 0]
        )
        return base.reduce_channels(values, self.reduce, self.keep_sign), delta

    # ------------------------------------------------------------------ hooks

    def path(self) -> tuple[int, dict]:
        alphas = np.arange(self.steps + 1, dtype=np.float64) / self.steps
        weights = np.full(self.steps + 1, 1.0 / self.steps)
        weights[[0, -1]] *= 0.5
        return self.steps + 1, {
            "alpha": alphas.astype(np.float32),
            "weight": weights.astype(np.float32),
        }

    def image_inputs(self, batch: np.ndarray, offset: int) -> dict:
        return {"baseline": self.baselines(batch, offset)}

    def model_inputs(self, inputs: tf.Tensor, rows: dict, images: dict) -> tf.Tensor:
        alpha = base.per_row(rows["alpha"], inputs)
        return inputs * alpha + images["baseline"] * (1.0 - alpha)

    def contributions(
        self, gradients: tf.Tensor, inputs: tf.Tensor, rows: dict, images: dict
    ) -> tf.Tensor:
        weight = base.per_row(rows["weight"], inputs)
        return weight * (inputs - images["baseline"]) * gradients

    def baselines(self, batch: np.ndarray, offset: int) -> np.ndarray:
        """The baseline of each image of a checked batch, float32 `(b, H, W, C)`.

        Raises:
            ValueError: If an array baseline does not fit the images.
        """
        if isinstance(self.baseline, str):
            if self.baseline == "black":
                return np.zeros_like(batch)
            if self.baseline == "blurred":
                sigma = max(1.0, BLUR_FRACTION * min(batch.shape[1:-1]))
                return gaussian_blur(batch, sigma).astype(np.float32)
            pixels = tuple(range(1, batch.ndim))
            low, high = batch.min(axis=pixels), batch.max(axis=pixels)
            return np.stack(
                [
                    np.random.default_rng([self.seed, offset + i]).uniform(
                        low[i], high[i], batch.shape[1:]
                    )
                    for i in range(len(batch))
                ]
            ).astype(np.float32)
        array = self.baseline
        image = batch.shape[1:]
        if array.ndim == batch.ndim and array.shape[0] != 1:
            if tuple(array.shape[1:]) != tuple(image):
                raise ValueError(
                    f"baseline: expected baselines of the image shape "
                    f"{tuple(image)}, got shape {array.shape}."
                )
            if offset + len(batch) > len(array):
                raise ValueError(
                    f"baseline: got {len(array)} baselines for at least "
                    f"{offset + len(batch)} images; pass one per image or a "
                    f"single (H, W, C) baseline."
                )
            return np.ascontiguousarray(array[offset : offset + len(batch)])
        try:
            single = np.broadcast_to(array[0] if array.ndim == batch.ndim else array, image)
        except ValueError:
            raise ValueError(
                f"baseline: expected an array broadcastable to the image shape "
                f"{tuple(image)}, got shape {array.shape}."
            ) from None
        return np.ascontiguousarray(np.broadcast_to(single, batch.shape), dtype=np.float32)


integrated_gradients = base.function_form(
    IntegratedGradients,
    "integrated_gradients",
    "Integrated Gradients",
    "https://arxiv.org/abs/1703.01365",
    extra=(
        ', `baseline` ("black", "blurred", "uniform", a number or an array), '
        '`steps` (Integer, default 64), `seed`, `keep_sign`, `reduce` (default "sum"), '
        "`return_delta` (Boolean, default False: also return the completeness error)"
    ),
    example=', steps=64, baseline="blurred"',
    returns="; with `return_delta=True`, `(maps, delta)`, delta float64 `(B,)`",
)
