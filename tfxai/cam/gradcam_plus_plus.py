"""Grad-CAM++: positive gradients weighted by per-position alpha coefficients."""

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
        layer: Layer reference, default `None` (the last layer with a 4-D output).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.

    Example:
        >>> cams = GradCAMPlusPlus(model)(images)

    Reference:
        Chattopadhay et al., "Grad-CAM++: Improved Visual Explanations for Deep
        Convolutional Networks", WACV 2018. https://arxiv.org/abs/1710.11063
    """

    def weights(self, activations, gradients):
        squared = tf.square(gradients)
        cubed = squared * gradients
        alpha = squared / _nonzero(2.0 * squared + base.spatial_sum(activations) * cubed)
        alpha = alpha / _nonzero(base.spatial_sum(alpha))
        return base.spatial_sum(alpha * tf.nn.relu(gradients))


def grad_cam_plus_plus(model, inputs, target=None, **options):
    """Grad-CAM++ maps `(B, H, W)` float32 in [0, 1].

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `layer`, `output`, `logits`, `batch_size` (Integer, default 32) and
            `normalize` (Boolean, default True), as in `GradCAMPlusPlus`.

    Returns:
        float32 numpy array `(B, H, W)`.

    Example:
        >>> cams = tfxai.grad_cam_plus_plus(model, images, target=[3, 5])

    Reference:
        https://arxiv.org/abs/1710.11063
    """
    return base.explain(GradCAMPlusPlus, model, inputs, target, **options)
