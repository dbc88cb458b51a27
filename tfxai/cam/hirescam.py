"""HiRes-CAM: every position weighted by its own (signed) gradient."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


class HiResCAM(base.CAM):
    """HiRes-CAM: `relu(sum_k g_kij * A_kij)`.

    Unlike Grad-CAM it does not average the gradients, so the map shows the locations
    that actually raise the score for models ending in global average pooling.

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
        >>> cams = HiResCAM(model)(images)

    Reference:
        Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations of
        convolutional neural networks", 2020. https://arxiv.org/abs/2011.08891
    """

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        return gradients


hires_cam = base.function_form(
    HiResCAM, "hires_cam", "HiRes-CAM", "https://arxiv.org/abs/2011.08891"
)
