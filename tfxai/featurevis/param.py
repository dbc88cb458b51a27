"""Image parameterizations: trainable variables that map to images in [0, 1].

One idea: the image parameterizations (pixel, FFT) and the `image` factory that picks one;
kept whole because both share the base class, its checks and the initialization.

A `Parameterization` owns `tf.Variable`s and, when called, builds a float32 image batch
`(B, H, W, C)` from them with TF ops only, so it can sit inside a compiled render step.
Two spaces are offered:

- `Pixel`: the variables are the (pre-activation) pixels themselves.
- `FFT`: the variables are a complex spectrum; the image is its inverse real 2-D FFT,
  with each frequency scaled by `1 / f ** decay_power`, so that gradient steps change low
  frequencies more than high ones and the optimized images look less noisy.

Either way, the pre-activation image may live in a decorrelated color space (`to_rgb`):
its channel vectors are multiplied by the square root of the ImageNet color correlation
matrix before a sigmoid squashes them to valid RGB (`tfxai.featurevis.color`).
"""

from __future__ import annotations

import numbers

import numpy as np
import tensorflow as tf

from tfxai import arguments

# Re-exported: `param.to_rgb`, `param.COLOR_CORRELATION_NORMALIZED`, ... as before the split.
from tfxai.featurevis.color import (
    COLOR_CORRELATION_NORMALIZED,  # noqa: F401
    COLOR_CORRELATION_SVD_SQRT,  # noqa: F401
    check_decorrelate,
    to_rgb,
)

PARAMS = ("fft", "pixel")

# Lucid divides the inverse FFT by 4 to keep the initial sigmoid away from saturation.
FFT_OUTPUT_SCALE = 0.25


# --------------------------------------------------------------------------- checks


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name}: expected a positive integer, got {type(value).__name__} {value!r}."
        )
    if value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}.")
    return int(value)


# --------------------------------------------------------------------------- functions


def fft_scale(height: int, width: int, decay_power: float = 1.0) -> np.ndarray:
    """The per-frequency scale of the `FFT` parameterization, numpy float32.

    `sqrt(H * W) / max(f, 1 / max(H, W)) ** decay_power`, where `f = sqrt(fy**2 + fx**2)`
    runs over the `rfft2` frequency grid in cycles per pixel (`fy` from
    `np.fft.fftfreq(H)`, `fx` from `np.fft.rfftfreq(W)`). The clip keeps the DC term
    finite; the `sqrt(H * W)` factor makes the inverse FFT of a white spectrum keep its
    energy, so pixel and FFT images can share a learning rate.

    Args:
        height: Integer >= 1. Image height `H`.
        width: Integer >= 1. Image width `W`.
        decay_power: Float >= 0, default 1.0. Exponent of the `1 / f` decay; 0 gives a
            flat (white) spectrum.

    Returns:
        float32 array of shape `(H, W // 2 + 1)`.

    Raises:
        ValueError: If a size is not a positive integer or `decay_power` is negative.

    Example:
        >>> float(fft_scale(4, 4)[0, 0])  # sqrt(16) / (1 / 4)
        16.0
    """
    height = _positive_int(height, "height")
    width = _positive_int(width, "width")
    decay_power = arguments.non_negative_float(decay_power, "decay_power")
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freqs = np.sqrt(fy**2 + fx**2)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(height, width)) ** decay_power
    return (scale * np.sqrt(height * width)).astype(np.float32)


# --------------------------------------------------------------------------- parameterizations


class Parameterization:
    """Base class: trainable variables that build an image batch in [0, 1].

    Subclasses create their variables in `__init__` and implement `raw()`, the
    unconstrained image before `to_rgb`.

    Args:
        size: Integer or pair of integers `(H, W)`. Image size.
        batch: Integer, default 1. Number of images `B`.
        decorrelate: Boolean, default True. Optimize in the decorrelated color space
            (needs `channels == 3`).
        channels: Integer, default 3. Number of channels `C`.
        sd: Float >= 0, default 0.01. Standard deviation of the normal initialization.
        seed: Integer >= 0, default 0. Seed of the initialization: the same seed gives
            bit-identical variables.

    Attributes:
        shape: `(B, H, W, C)` of the images.
        variables: List of the `tf.Variable`s to optimize.

    Raises:
        ValueError: On a bad argument (named in the message).
        TypeError: On an argument of the wrong type.
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        batch: int = 1,
        *,
        decorrelate: bool = True,
        channels: int = 3,
        sd: float = 0.01,
        seed: int = 0,
    ) -> None:
        height, width = arguments.int_pair(size, "size")
        batch = _positive_int(batch, "batch")
        channels = _positive_int(channels, "channels")
        self.shape = (batch, height, width, channels)
        self.decorrelate = check_decorrelate(decorrelate, channels)
        self.sd = arguments.non_negative_float(sd, "sd")
        self.seed = arguments.check_seed(seed)
        self.variables: list[tf.Variable] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape}, decorrelate={self.decorrelate})"

    def _normal(self, shape):
        """A seeded `normal(0, sd)` draw as a float32 `tf.Variable`."""
        init = np.random.default_rng(self.seed).normal(0.0, self.sd, size=shape)
        return tf.Variable(init.astype(np.float32), trainable=True)

    def raw(self) -> tf.Tensor:
        """The unconstrained image batch `(B, H, W, C)`, float32, before `to_rgb`."""
        raise NotImplementedError

    def __call__(self) -> tf.Tensor:
        """The image batch: float32 tensor `(B, H, W, C)` in [0, 1]."""
        return to_rgb(self.raw(), self.decorrelate)


class Pixel(Parameterization):
    """Pixel parameterization: one variable per pixel and channel, `(B, H, W, C)`.

    Same arguments as `Parameterization`.

    Example:
        >>> p = Pixel(64, batch=2, seed=1)
        >>> p().shape
        TensorShape([2, 64, 64, 3])
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        batch: int = 1,
        *,
        decorrelate: bool = True,
        channels: int = 3,
        sd: float = 0.01,
        seed: int = 0,
    ) -> None:
        super().__init__(size, batch, decorrelate=decorrelate, channels=channels, sd=sd, seed=seed)
        self.pixels = self._normal(self.shape)
        self.variables = [self.pixels]

    def raw(self) -> tf.Tensor:
        """The unconstrained image batch `(B, H, W, C)`, float32, before `to_rgb`."""
        return tf.identity(self.pixels)


class FFT(Parameterization):
    """Fourier parameterization: the image is the inverse real FFT of a 1/f-scaled spectrum.

    The variable `spectrum` has shape `(B, C, H, W // 2 + 1, 2)` (real and imaginary
    parts of each `rfft2` coefficient); the image is
    `irfft2d(fft_scale(H, W, decay_power) * spectrum) * FFT_OUTPUT_SCALE`, computed with
    `fft_length=[H, W]` so odd sizes are exact. Its gradient is written out (`_irfft_image`):
    TensorFlow's own, bit for bit, in fewer ops. Takes the arguments of `Parameterization`,
    plus:

    Args:
        decay_power: Float >= 0, default 1.0. Exponent of the `1 / f` spectrum scaling.

    Example:
        >>> p = FFT((64, 48), batch=4, seed=0)
        >>> images = p()  # (4, 64, 48, 3) in [0, 1]

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """

    def __init__(
        self,
        size: int | tuple[int, int],
        batch: int = 1,
        *,
        decorrelate: bool = True,
        channels: int = 3,
        sd: float = 0.01,
        seed: int = 0,
        decay_power: float = 1.0,
    ) -> None:
        super().__init__(size, batch, decorrelate=decorrelate, channels=channels, sd=sd, seed=seed)
        batch, height, width, channels = self.shape
        self.decay_power = arguments.non_negative_float(decay_power, "decay_power")
        self.scale = tf.constant(fft_scale(height, width, self.decay_power))
        self.spectrum = self._normal((batch, channels, height, width // 2 + 1, 2))
        self.variables = [self.spectrum]
        self._irfft = _irfft_image(self.scale.numpy(), height, width)

    def raw(self) -> tf.Tensor:
        """The unconstrained image batch `(B, H, W, C)`, float32, before `to_rgb`."""
        return self._irfft(tf.convert_to_tensor(self.spectrum))


def _irfft_image(scale, height, width):
    """`fn(spectrum)`: `irfft2d(scale * spectrum) * FFT_OUTPUT_SCALE` as `(B, H, W, C)`.

    `spectrum` is float32 `(B, C, H, W // 2 + 1, 2)`, read in place as complex64
    (`tf.bitcast`) instead of through two strided slices, whose gradients cost more than
    the FFTs. The gradient is TensorFlow's for the sliced form, bit for bit, in fewer ops:
    `rfft2d` of the incoming gradient, times `mask / (H W)` (TensorFlow's `irfft2d`
    gradient; `mask` is 1 on column 0, and column `W / 2` for an even `W`, else 2), times
    `FFT_OUTPUT_SCALE` (a power of 2: exact anywhere), then times `scale`.
    """
    mask = np.full(width // 2 + 1, 2.0, np.float32)
    mask[0] = 1.0
    if width % 2 == 0:
        mask[-1] = 1.0
    irfft_grad = np.float32(1.0) / np.float32(height * width) * mask * FFT_OUTPUT_SCALE
    irfft_grad = tf.constant(irfft_grad.astype(np.complex64))
    forward = tf.constant((scale * np.float32(FFT_OUTPUT_SCALE)).astype(np.complex64))
    scale = tf.constant(scale[..., None])  # on (real, imaginary) pairs
    length = tf.constant([height, width], tf.int32)

    @tf.custom_gradient
    def fn(spectrum):
        images = tf.signal.irfft2d(tf.bitcast(spectrum, tf.complex64) * forward, length)

        def grad(upstream):
            spectral = tf.signal.rfft2d(tf.transpose(upstream, (0, 3, 1, 2)), length)
            # Scaled after the bitcast: Grappler would fold two constant factors in a row
            # into one, changing the rounding.
            return tf.bitcast(spectral * irfft_grad, tf.float32) * scale

        return tf.transpose(images, (0, 2, 3, 1)), grad

    return fn


def image(
    size: int | tuple[int, int],
    batch: int = 1,
    *,
    param: str = "fft",
    decorrelate: bool = True,
    channels: int = 3,
    sd: float = 0.01,
    seed: int = 0,
) -> Parameterization:
    """Builds an image parameterization (Lucid's `param.image`).

    Args:
        size: Integer or pair of integers `(H, W)`. Image size.
        batch: Integer, default 1. Number of images.
        param: String or `Parameterization`, default "fft". `"fft"` (1/f-scaled Fourier
            spectrum), `"pixel"`, or an existing `Parameterization`, returned as is (the
            other arguments are then ignored).
        decorrelate: Boolean, default True. Optimize in the decorrelated color space
            (needs `channels == 3`).
        channels: Integer, default 3. Number of channels.
        sd: Float >= 0, default 0.01. Standard deviation of the normal initialization.
        seed: Integer >= 0, default 0. Seed of the initialization.

    Returns:
        A `Parameterization`: call it for a float32 `(batch, H, W, channels)` image in
        [0, 1]; optimize its `variables`.

    Raises:
        ValueError: On a bad argument (named in the message), e.g. an unknown `param`.
        TypeError: If `param` is neither a string nor a `Parameterization`.

    Example:
        >>> p = image(128, batch=4)
        >>> with tf.GradientTape() as tape:
        ...     score = tf.reduce_mean(p())
        >>> grads = tape.gradient(score, p.variables)

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    if isinstance(param, Parameterization):
        return param
    if not isinstance(param, str):
        raise TypeError(
            f"param: expected one of {', '.join(map(repr, PARAMS))} or a "
            f"Parameterization, got {type(param).__name__}."
        )
    if param not in PARAMS:
        raise ValueError(
            f"param: expected one of {', '.join(map(repr, PARAMS))} or a "
            f"Parameterization, got {param!r}."
        )
    cls = FFT if param == "fft" else Pixel
    return cls(size, batch, decorrelate=decorrelate, channels=channels, sd=sd, seed=seed)
