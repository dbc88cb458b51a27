"""Gradient attributions: the shared compiled gradient pass, saliency and gradient x input.

A gradient method is described by four small hooks on `GradientAttribution`:

- `path()`: the evaluations per attribution (one for a plain gradient, the path points of
  Integrated Gradients), as per-evaluation arrays;
- `model_inputs(inputs, rows, images)`: the tensor the model sees for each evaluation;
- `gradients(model_inputs, target, params)`: the tape pass (guided backprop overrides it);
- `contributions(gradients, inputs, rows, images)`: what each evaluation adds to the
  per-channel attribution.

All evaluations of a batch, and the noisy copies of the SmoothGrad family, go through one
compiled graph in chunks of `batch_size`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import engine as engine_lib
from tfxai.attribution import base
from tfxai.targets import Target


def no_input_gradient(model: keras.Model) -> str:
    """The message for a target with no gradient with respect to the input pixels."""
    dtype = engine_lib.integer_input(model)
    cause = (
        f"model {model.name!r} takes {dtype.name} inputs and no layer receives them as float values"
        if dtype is not None
        else f"the target does not depend on the input pixels of model "
        f"{model.name!r}, e.g. the model rounds them to integers itself"
    )
    return (
        f"inputs: no gradient reaches the input pixels ({cause}); gradient attributions "
        f"need pixels that reach a layer as floats (a uint8 Input followed by a layer "
        f"such as Rescaling works), or use a CAM method, which differentiates an inner "
        f"layer."
    )


class GradientAttribution(base.Attribution):
    """Base class of the gradient attributions (saliency, gradient x input, IG, guided).

    Args:
        model: A Keras model; never changed.
        keep_sign: Boolean, default False. Reduce signed attributions (True) or their
            absolute values (False) over the channels.
        reduce: String, default "max". Channel reduction: "max", "mean", "sum" or "norm".
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        keep_sign: bool = False,
        reduce: str = "max",
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(model, output=output, logits=logits, input=input)
        self.reduce, self.keep_sign = base.check_reduction(reduce, keep_sign)

    # ------------------------------------------------------------------ hooks

    def path(self) -> tuple[int, dict]:
        """`(count, arrays)`: evaluations per attribution and their `(count, ...)` arrays."""
        return 1, {}

    def image_inputs(self, batch: np.ndarray, offset: int) -> dict:
        """Per-image numpy arrays `(b, ...)` the graph needs (e.g. baselines)."""
        del batch, offset
        return {}

    def model_inputs(self, inputs: tf.Tensor, rows: dict, images: dict) -> tf.Tensor:
        """The model input of each evaluation (inside the graph)."""
        del rows, images
        return inputs

    def gradients(
        self, model_inputs: tf.Tensor, target: Target, params: Any
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(gradients, scores)`: d(target score)/d(model input) float32, and the scores."""
        tape, scores, _ = self.engine.scores_and_outputs(
            model_inputs, target, params, capture=False, watch=(model_inputs,)
        )
        gradients = tape.gradient(scores, model_inputs)
        if gradients is None:  # never a silent all-zero map
            raise ValueError(no_input_gradient(self.model))
        return tf.cast(gradients, tf.float32), scores

    def contributions(
        self, gradients: tf.Tensor, inputs: tf.Tensor, rows: dict, images: dict
    ) -> tf.Tensor:
        """What each evaluation adds to the per-channel attribution of its input."""
        del inputs, rows, images
        return gradients

    # ------------------------------------------------------------------ passes

    def attributions(self, inputs: Any, target: Any = None, *, batch_size: int = 32) -> np.ndarray:
        """Per-channel attributions `(B, H, W, C)` float32, before the channel reduction.

        For volumes, `(B, D, H, W, C)`.

        Args:
            inputs: Images, as for `__call__`.
            target: Target, as for `__call__`.
            batch_size: Integer, default 32. Model evaluations per compiled pass.

        Returns:
            float32 numpy array `(B, H, W, C)` (not normalized).
        """
        (values,) = self.collect(
            inputs, target, batch_size, lambda *args: self.attribute_batch(*args)[:1]
        )
        return values

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        values, _ = self.attribute_batch(batch, target, params, batch_size, offset)
        return base.reduce_channels(values, self.reduce, self.keep_sign)

    def attribute_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """`(attributions (b, H, W, C), scores (rows,))` of one checked batch."""
        values = np.zeros(batch.shape, np.float32)

        def store(ids, sums):
            values[ids] = sums

        scores = self.run_units(batch, target, params, batch_size, offset, store)
        return values, scores

    def run_units(
        self,
        batch: np.ndarray,
        target: Target,
        params: Any,
        batch_size: int,
        offset: int,
        consume: Callable[[np.ndarray, np.ndarray], None],
        *,
        samples: int = 1,
        noise: float | None = None,
        seed: int = 0,
    ) -> np.ndarray:
        """Runs every evaluation of `samples` copies of each image through compiled passes.

        Args:
            batch: Checked float32 images `(b, H, W, C)`, as for `explain_batch`.
            target: The batch's `Target`.
            params: Its bound per-sample parameters.
            batch_size: Integer, model evaluations per compiled pass.
            offset: Integer, the position of the batch's first image in the inputs.
            consume: Callable `(unit_ids, attributions)` receiving complete attributions;
                unit `i * samples + s` is copy `s` of image `i`.
            samples: Integer, default 1. Copies of each image.
            noise: `None` (copies are exact) or a float: Gaussian noise of standard
                deviation `noise * (max - min)` of each image is added to each copy.
            seed: Integer, default 0. Copy `s` of the image at global index `j` draws its
                noise from the stateless seed `(seed, j * samples + s)`.

        Returns:
            float32 numpy `(rows,)`: the target score of every evaluation, unit-major.
        """
        count, path = self.path()
        units = len(batch) * samples
        unit = np.repeat(np.arange(units, dtype=np.int32), count)
        rows = {"unit": unit, "image": unit // np.int32(samples)}
        rows.update(
            {key: np.tile(value, (units,) + (1,) * (value.ndim - 1)) for key, value in path.items()}
        )
        images = dict(self.image_inputs(batch, offset), target=params)
        noisy = noise is not None
        if noisy:
            global_unit = np.int64(offset) * samples + unit.astype(np.int64)
            rows["seed"] = np.stack([np.full(len(unit), seed, np.int64), global_unit], axis=1)
            pixels = tuple(range(1, batch.ndim))
            span = batch.max(axis=pixels) - batch.min(axis=pixels)
            images["sigma"] = (noise * span).astype(np.float32)
        return self.run_rows(
            ("gradients", noisy),
            self._graph(target, noisy),
            batch,
            target,
            rows,
            images,
            batch_size,
            consume,
        )

    def _graph(self, target, noisy):
        def gradient_graph(x, p):
            rows = p["rows"]
            images = base.gather_rows(p["images"], rows)
            inputs = tf.gather(x, rows["image"])
            if noisy:
                shape = tuple(x.shape[1:])
                noise = tf.map_fn(
                    lambda seed: tf.random.stateless_normal(shape, seed),
                    rows["seed"],
                    fn_output_signature=tf.float32,
                )
                inputs = inputs + base.per_row(images["sigma"], inputs) * noise
            model_inputs = self.model_inputs(inputs, rows, images)
            gradients, scores = self.gradients(model_inputs, target, images["target"])
            values = self.contributions(gradients, inputs, rows, images)
            return base.unit_sums(values, rows), scores

        return gradient_graph


class Saliency(GradientAttribution):
    """Vanilla gradient saliency: `max_c |dS/dx_c|` per pixel (Simonyan et al.).

    Args:
        model: A Keras model; never changed.
        keep_sign: Boolean, default False. Reduce the signed gradient instead of its
            absolute value (then `reduce="max"` keeps the most positive channel).
        reduce: String, default "max". Channel reduction: "max", "mean", "sum" or "norm".
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> maps = Saliency(model)(images, target=[281, 282])  # (2, H, W) in [0, 1]

    Reference:
        Simonyan et al., "Deep Inside Convolutional Networks: Visualising Image
        Classification Models and Saliency Maps", ICLR Workshop 2014.
        https://arxiv.org/abs/1312.6034
    """


class GradientXInput(GradientAttribution):
    """Gradient x input: `x_c * dS/dx_c`, summed over the channels by default.

    For a linear model (no bias) the per-channel attributions add up to the score.

    Args:
        model: A Keras model; never changed.
        keep_sign: Boolean, default False. Reduce signed attributions (True) or their
            absolute values (False).
        reduce: String, default "sum". Channel reduction: "max", "mean", "sum" or "norm".
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> maps = GradientXInput(model, keep_sign=True)(images, normalize=False)

    Reference:
        Shrikumar et al., "Not Just a Black Box: Learning Important Features Through
        Propagating Activation Differences", 2016. https://arxiv.org/abs/1605.01713
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        keep_sign: bool = False,
        reduce: str = "sum",
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(
            model, keep_sign=keep_sign, reduce=reduce, output=output, logits=logits, input=input
        )

    def contributions(
        self, gradients: tf.Tensor, inputs: tf.Tensor, rows: dict, images: dict
    ) -> tf.Tensor:
        return gradients * inputs


saliency = base.function_form(
    Saliency,
    "saliency",
    "Vanilla gradient saliency",
    "https://arxiv.org/abs/1312.6034",
    extra=', `keep_sign` (Boolean, default False), `reduce` (String, default "max")',
    example=", keep_sign=True",
)
gradient_x_input = base.function_form(
    GradientXInput,
    "gradient_x_input",
    "Gradient x input",
    "https://arxiv.org/abs/1605.01713",
    extra=', `keep_sign` (Boolean, default False), `reduce` (String, default "sum")',
)
