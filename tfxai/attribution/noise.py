"""SmoothGrad, VarGrad and SquareGrad: statistics of a gradient method over noisy copies.

Each wrapper runs any gradient method (`saliency`, `gradient_x_input`,
`integrated_gradients`, `guided_backprop`, or a `GradientAttribution` subclass or
instance) on `samples` noisy copies of each image, and takes a statistic of the signed
per-channel attributions: their mean (SmoothGrad), the mean of their squares (SquareGrad)
or their variance (VarGrad). The method's own `keep_sign`/`reduce` then make the map, so
`smooth_grad(noise=0)` is exactly the method itself.

The noise is Gaussian with standard deviation `noise * (max - min)` of each image, drawn
inside the compiled graph from stateless seeds: copy `s` of the image at index `j` (over the
whole call) uses `(seed, j * samples + s)`, so results do not depend on `batch_size`.
All copies of a batch go through the same compiled passes, `batch_size` evaluations each.
"""

from __future__ import annotations

from typing import Any, cast

import keras
import numpy as np

from tfxai import explainer
from tfxai.attribution import base
from tfxai.attribution import gradients as gradients_lib
from tfxai.attribution import guided as guided_lib
from tfxai.attribution import integrated as integrated_lib
from tfxai.targets import Target

GRADIENT_METHODS = {
    "saliency": gradients_lib.Saliency,
    "gradient_x_input": gradients_lib.GradientXInput,
    "integrated_gradients": integrated_lib.IntegratedGradients,
    "guided_backprop": guided_lib.GuidedBackprop,
}
# A noise wrapper's method: a name of GRADIENT_METHODS, a GradientAttribution subclass or
# an instance of one.
GradientMethod = str | type[gradients_lib.GradientAttribution] | gradients_lib.GradientAttribution


def gradient_method(
    model: keras.Model,
    method: GradientMethod,
    output: int | str | None,
    logits: bool,
    options: dict,
) -> gradients_lib.GradientAttribution:
    """Builds (or checks) the gradient method a noise wrapper runs."""
    if isinstance(method, gradients_lib.GradientAttribution):
        if options:
            raise ValueError(
                f"method: options {sorted(options)} cannot be applied to an "
                f"explainer instance; build it with them, or pass its name."
            )
        if method.model is not model:
            raise ValueError(
                f"method: the explainer instance explains model "
                f"{method.model.name!r}, not {model.name!r}."
            )
        return method
    if isinstance(method, str):
        if method not in GRADIENT_METHODS:
            raise ValueError(
                f"method: expected one of {', '.join(GRADIENT_METHODS)}, a "
                f"GradientAttribution class or instance, got {method!r}."
            )
        method = GRADIENT_METHODS[method]
    if not (isinstance(method, type) and issubclass(method, gradients_lib.GradientAttribution)):
        raise ValueError(
            f"method: expected one of {', '.join(GRADIENT_METHODS)}, a "
            f"GradientAttribution class or instance, got {method!r}."
        )
    explainer.check_options(method, f"{method.__name__} (the noise wrapper's method)", options)
    return method(model, output=output, logits=logits, **options)


class _Statistic:
    """Per-image running mean, mean of squares, or variance (Chan et al.) of attributions."""

    def __init__(self, shape: tuple[int, ...], samples: int, statistic: str) -> None:
        self.samples, self.statistic = samples, statistic
        self.count = np.zeros(shape[0], np.int64)
        self.total = np.zeros(shape, np.float64)  # sum, sum of squares, or running mean
        self.m2 = np.zeros(shape, np.float64) if statistic == "variance" else None

    def add(self, units: np.ndarray, values: np.ndarray) -> None:
        """Takes complete attributions `values` of `units` (consecutive, image-major)."""
        images = units // self.samples
        starts = np.flatnonzero(np.r_[True, images[1:] != images[:-1]])
        for start, stop in zip(starts, np.r_[starts[1:], len(images)]):
            image, group = images[start], values[start:stop]
            n_a, n_b = self.count[image], stop - start
            self.count[image] = n = n_a + n_b
            if self.statistic == "mean":
                self.total[image] += group.sum(axis=0)
            elif self.statistic == "square":
                self.total[image] += np.square(group).sum(axis=0)
            else:
                group = group.astype(np.float64)
                mean_b = group.mean(axis=0)
                delta = mean_b - self.total[image]
                self.total[image] += delta * (n_b / n)
                m2 = cast(np.ndarray, self.m2)  # set for the variance
                m2[image] += np.square(group - mean_b).sum(axis=0) + np.square(delta) * (
                    n_a * n_b / n
                )

    def result(self) -> np.ndarray:
        count = self.count.reshape((-1,) + (1,) * (self.total.ndim - 1))
        if self.statistic == "variance":
            return (cast(np.ndarray, self.m2) / count).astype(np.float32)
        return (self.total / count).astype(np.float32)


class NoiseWrapper(base.Attribution):
    """Base of SmoothGrad, VarGrad and SquareGrad.

    Args:
        model: A Keras model; never changed.
        method: String (`"saliency"`, `"gradient_x_input"`, `"integrated_gradients"`,
            `"guided_backprop"`), a `GradientAttribution` subclass, or an instance of one
            for `model`. Default "saliency".
        noise: Float >= 0, default 0.2. Noise standard deviation as a fraction of each
            image's value range (max - min).
        samples: Integer, default 50. Noisy copies per image.
        seed: Integer >= 0, default 0. Seed of the noise.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
        **method_options: Options of the method (e.g. `keep_sign`, `reduce`, `steps`).

    Raises:
        ValueError: On a bad `method`, `noise`, `samples` or `seed`.
    """

    perturbs = True
    statistic = "mean"

    def __init__(
        self,
        model: keras.Model,
        method: GradientMethod = "saliency",
        *,
        noise: float = 0.2,
        samples: int = 50,
        seed: int = 0,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
        **method_options: Any,
    ) -> None:
        options = dict(method_options, **({} if input is None else {"input": input}))
        self.method = gradient_method(model, method, output, logits, options)
        self.engine = self.method.engine
        self.noise = base.non_negative_float(noise, "noise")
        self.samples = base.positive_int(samples, "samples")
        self.seed = base.check_seed(seed)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model.name!r}, "
            f"method={type(self.method).__name__}, noise={self.noise:g}, "
            f"samples={self.samples})"
        )

    def attributions(self, inputs: Any, target: Any = None, *, batch_size: int = 32) -> np.ndarray:
        """The statistic of the per-channel attributions, `(B, H, W, C)` float32."""
        return self.collect(
            inputs, target, batch_size, lambda *args: (self.attribute_batch(*args),)
        )[0]

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        values = self.attribute_batch(batch, target, params, batch_size, offset)
        return base.reduce_channels(values, self.method.reduce, self.method.keep_sign)

    def attribute_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        """The statistic over the noisy copies of one checked batch, `(b, H, W, C)`."""
        statistic = _Statistic(batch.shape, self.samples, self.statistic)
        self.method.run_units(
            batch,
            target,
            params,
            batch_size,
            offset,
            statistic.add,
            samples=self.samples,
            noise=self.noise,
            seed=self.seed,
        )
        return statistic.result()


class SmoothGrad(NoiseWrapper):
    """SmoothGrad: the mean attribution over noisy copies of the input.

    The signed per-channel attributions of the copies are averaged, then reduced as the
    method does (for saliency: `max_c |mean_s dS/dx_c|`).

    Args:
        model: A Keras model; never changed.
        method: String, default "saliency"; or a `GradientAttribution` class/instance.
        noise: Float >= 0, default 0.2. Noise std as a fraction of each image's range.
        samples: Integer, default 50. Noisy copies per image.
        seed: Integer >= 0, default 0. Seed of the noise.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
        **method_options: Options of the method (`keep_sign`, `reduce`, `steps`, ...).

    Example:
        >>> maps = SmoothGrad(model, samples=20, noise=0.15)(images, target=[1, 2])

    Reference:
        Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017.
        https://arxiv.org/abs/1706.03825
    """


class SquareGrad(NoiseWrapper):
    """SquareGrad: the mean of the squared attributions over noisy copies.

    Args:
        model: A Keras model; never changed.
        method: String, default "saliency"; or a `GradientAttribution` class/instance.
        noise: Float >= 0, default 0.2. Noise std as a fraction of each image's range.
        samples: Integer, default 50. Noisy copies per image.
        seed: Integer >= 0, default 0. Seed of the noise.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
        **method_options: Options of the method (`keep_sign`, `reduce`, `steps`, ...).

    Example:
        >>> maps = SquareGrad(model, samples=20)(images)

    Reference:
        Hooker et al., "A Benchmark for Interpretability Methods in Deep Neural Networks",
        NeurIPS 2019. https://arxiv.org/abs/1806.10758
    """

    statistic = "square"


class VarGrad(NoiseWrapper):
    """VarGrad: the variance of the attributions over noisy copies (1/n normalization).

    Args:
        model: A Keras model; never changed.
        method: String, default "saliency"; or a `GradientAttribution` class/instance.
        noise: Float >= 0, default 0.2. Noise std as a fraction of each image's range.
        samples: Integer, default 50. Noisy copies per image.
        seed: Integer >= 0, default 0. Seed of the noise.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
        **method_options: Options of the method (`keep_sign`, `reduce`, `steps`, ...).

    Example:
        >>> maps = VarGrad(model, samples=20)(images)

    Reference:
        Adebayo et al., "Local Explanation Methods for Deep Neural Networks Lack
        Sensitivity to Parameter Values", ICLR Workshop 2018.
        https://arxiv.org/abs/1810.03307
    """

    statistic = "variance"


_EXTRA = (
    ', `method` (String or GradientAttribution, default "saliency"), `noise` '
    "(Float, default 0.2, a fraction of each image's range), `samples` (Integer, "
    "default 50), `seed` (Integer, default 0), the method's options (`keep_sign`, "
    "`reduce`, ...)"
)
smooth_grad = base.function_form(
    SmoothGrad,
    "smooth_grad",
    "SmoothGrad",
    "https://arxiv.org/abs/1706.03825",
    extra=_EXTRA,
    example=", samples=20, noise=0.15",
)
square_grad = base.function_form(
    SquareGrad,
    "square_grad",
    "SquareGrad",
    "https://arxiv.org/abs/1806.10758",
    extra=_EXTRA,
    example=", samples=20",
)
var_grad = base.function_form(
    VarGrad,
    "var_grad",
    "VarGrad",
    "https://arxiv.org/abs/1810.03307",
    extra=_EXTRA,
    example=", samples=20",
)
