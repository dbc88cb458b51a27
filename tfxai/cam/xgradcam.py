"""XGrad-CAM: gradients weighted by the normalized activations."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


class XGradCAM(base.CAM):
    """XGrad-CAM: `w_k = sum_ij (A_kij / sum_ab A_kab) * g_kij`.

    Channels whose activations sum to zero get weight zero.

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
        >>> cams = XGradCAM(model)(images)

    Reference:
        Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation
        of CNNs", BMVC 2020. https://arxiv.org/abs/2008.02312
    """

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        return tf.math.divide_no_nan(
            base.spatial_sum(activations * gradients), base.spatial_sum(activations)
        )


xgrad_cam = base.function_form(
    XGradCAM, "xgrad_cam", "XGrad-CAM", "https://arxiv.org/abs/2008.02312"
)
