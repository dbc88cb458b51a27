"""Grad-CAM: channels weighted by their spatially averaged gradient."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


class GradCAM(base.CAM):
    """Grad-CAM: `relu(sum_k mean_ij(dS/dA_kij) * A_k)`.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output; for a
            vision transformer, the last token layer whose patches are read).
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a `(batch, tokens, channels)` layer (`tfxai.tokens`).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> explainer = GradCAM(model, layer="resnet50/conv5_block3_out")
        >>> cams = explainer(images, target=[281, 282])  # (2, 224, 224) in [0, 1]

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
        Gradient-based Localization", ICCV 2017. https://arxiv.org/abs/1610.02391
    """

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        return tf.reduce_mean(gradients, axis=base.spatial_axes(gradients), keepdims=True)


grad_cam = base.function_form(GradCAM, "grad_cam", "Grad-CAM", "https://arxiv.org/abs/1610.02391")
