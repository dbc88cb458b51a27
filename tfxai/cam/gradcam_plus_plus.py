"""Grad-CAM++: positive gradients weighted by per-position alpha coefficients."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


def _nonzero(tensor):
    """`tensor` with exact zeros replaced by one, to divide by safely."""
    return tf.where(tf.equal(tensor, 0.0), tf.ones_like(tensor), tensor)


class GradCAMPlusPlus(base.CAM):
    """Grad-CAM++: `w_k = sum_ij alpha_kij * relu(g_kij)`.

    With the exponential-score closed form of the paper,
    `alpha = g^2 / (2 g^2 + sum_ab(A_kab) g^3)`; as in the authors' reference code the
    alphas of each channel are normalized to sum to one over the positions.

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
        >>> cams = GradCAMPlusPlus(model)(images)

    Reference:
        Chattopadhay et al., "Grad-CAM++: Improved Visual Explanations for Deep
        Convolutional Networks", WACV 2018. https://arxiv.org/abs/1710.11063
    """

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        squared = tf.square(gradients)
        cubed = squared * gradients
        alpha = squared / _nonzero(2.0 * squared + base.spatial_sum(activations) * cubed)
        alpha = alpha / _nonzero(base.spatial_sum(alpha))
        return base.spatial_sum(alpha * tf.nn.relu(gradients))


grad_cam_plus_plus = base.function_form(
    GradCAMPlusPlus, "grad_cam_plus_plus", "Grad-CAM++", "https://arxiv.org/abs/1710.11063"
)
