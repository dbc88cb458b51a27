"""Guided backpropagation and Guided Grad-CAM, without touching the model.

Guided backprop lets a gradient through a ReLU only where both the ReLU's input and the
incoming gradient are positive. Here, while the gradient graph is traced, the `call` of
every layer whose output ends in a ReLU (a layer with `activation=relu`, `keras.layers.ReLU`
without slope or threshold, `Activation("relu")`, in nested models too) is shadowed
(`tfxai.engine.shadow_calls`): its output `y = relu(z)` goes through an identity whose
gradient is `g -> relu(g)`. Backprop through the ReLU itself then gives
`relu(g) * (z > 0)`, exactly the guided rule. The forward values are unchanged, the
shadows are gone when tracing returns, and nothing is cloned.

ReLUs applied inside a layer's own code (`tf.nn.relu` in a custom layer's `call`, a
`Lambda`) are not seen and keep their plain gradient.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import engine as engine_lib
from tfxai.attribution import base, gradients
from tfxai.cam import gradcam
from tfxai.targets import Target


def ends_in_relu(layer: keras.layers.Layer) -> bool:
    """True if the layer's output is a plain ReLU of something."""
    if isinstance(layer, keras.Model):
        return False
    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and not layer.threshold
    if hasattr(layer, "recurrent_activation"):  # recurrent cells: relu is not the output
        return False
    return getattr(layer, "activation", None) is keras.activations.relu


def relu_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of `model` (nested models included) whose output ends in a ReLU."""
    return [layer for _, layer in engine_lib.layer_paths(model) if ends_in_relu(layer)]


@tf.custom_gradient
def _guided_identity(value):
    def gradient(upstream):
        return tf.nn.relu(upstream)

    return tf.identity(value), gradient


def _guide(layer, output):
    del layer
    return _guided_identity(output) if isinstance(output, tf.Tensor) else output


@contextlib.contextmanager
def guided_relus(layers: Sequence[keras.layers.Layer]) -> Iterator[None]:
    """While the block traces, gradients reaching the outputs of `layers` are rectified."""
    with engine_lib.shadow_calls(layers, _guide):
        yield


class GuidedBackprop(gradients.GradientAttribution):
    """Guided backpropagation: the input gradient with every ReLU's gradient rectified.

    The model is not changed: the guided rule applies only inside this explainer's own
    compiled graph (see the module docstring), so other explainers on the same model see
    plain gradients.

    Args:
        model: A Keras model; never changed.
        keep_sign: Boolean, default False. Reduce the signed guided gradient instead of
            its absolute value.
        reduce: String, default "max". Channel reduction: "max", "mean", "sum" or "norm".
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> maps = GuidedBackprop(model)(images, target=[281, 282])

    Reference:
        Springenberg et al., "Striving for Simplicity: The All Convolutional Net",
        ICLR Workshop 2015. https://arxiv.org/abs/1412.6806
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
        super().__init__(
            model, keep_sign=keep_sign, reduce=reduce, output=output, logits=logits, input=input
        )
        self.relu_layers = relu_layers(model)
        if not self.relu_layers:
            warnings.warn(
                f"model: {model.name!r} has no layer ending in a ReLU; guided "
                f"backprop is the plain gradient.",
                stacklevel=2,
            )

    def gradients(
        self, model_inputs: tf.Tensor, target: Target, params: Any
    ) -> tuple[tf.Tensor, tf.Tensor]:
        with guided_relus(self.relu_layers):
            return super().gradients(model_inputs, target, params)


class GuidedGradCAM(base.Attribution):
    """Guided Grad-CAM: guided backprop times the upsampled Grad-CAM map.

    The per-channel guided gradient is multiplied by the (non-negative) Grad-CAM map of
    `layer`, as in the Grad-CAM paper, then reduced over the channels.

    Args:
        model: A Keras model; never changed.
        layer: Layer of the Grad-CAM, default `None` (the last layer with a 4-D output).
        keep_sign: Boolean, default False. Reduce the signed guided gradient.
        reduce: String, default "max". Channel reduction: "max", "mean", "sum" or "norm".
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a token layer for the Grad-CAM (`tfxai.tokens`).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> maps = GuidedGradCAM(model, layer="conv5_block3_out")(images)

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
        Gradient-based Localization", ICCV 2017. https://arxiv.org/abs/1610.02391
    """

    def __init__(
        self,
        model: keras.Model,
        layer: Any = None,
        *,
        keep_sign: bool = False,
        reduce: str = "max",
        tokens: Any = None,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        self.cam = gradcam.GradCAM(
            model, layer, tokens=tokens, output=output, logits=logits, input=input
        )
        self.guided = GuidedBackprop(
            model, keep_sign=keep_sign, reduce=reduce, output=output, logits=logits, input=input
        )
        self.guided.engine = self.engine = self.cam.engine  # one engine, one trace count

    def __repr__(self) -> str:
        return f"GuidedGradCAM(model={self.model.name!r}, layer={self.engine.layer_path!r})"

    def attributions(self, inputs: Any, target: Any = None, *, batch_size: int = 32) -> np.ndarray:
        """Per-channel guided gradient times the Grad-CAM map, `(B, H, W, C)` float32."""

        def product(batch, target, params, batch_size, offset):
            values, cams = self._parts(batch, target, params, batch_size, offset)
            return (values * cams[..., None],)

        return self.collect(inputs, target, batch_size, product)[0]

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        values, cams = self._parts(batch, target, params, batch_size, offset)
        guided = base.reduce_channels(values, self.guided.reduce, self.guided.keep_sign)
        return (guided * cams).astype(np.float32)

    def _parts(self, batch, target, params, batch_size, offset):
        values, _ = self.guided.attribute_batch(batch, target, params, batch_size, offset)
        cams = self.cam.explain_batch(batch, target, params, batch_size, offset)
        return values, cams


guided_backprop = base.function_form(
    GuidedBackprop,
    "guided_backprop",
    "Guided backpropagation",
    "https://arxiv.org/abs/1412.6806",
    extra=', `keep_sign` (Boolean, default False), `reduce` (String, default "max")',
)
guided_grad_cam = base.function_form(
    GuidedGradCAM,
    "guided_grad_cam",
    "Guided Grad-CAM",
    "https://arxiv.org/abs/1610.02391",
    extra=(
        ", `layer` (the Grad-CAM layer, default the last 4-D layer), `keep_sign`, `reduce`,"
        " `tokens` ((height, width, skip) of a token layer)"
    ),
    example=', layer="conv5_block3_out"',
)
