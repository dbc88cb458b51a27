"""XGrad-CAM: gradients weighted by the normalized activations."""

import tensorflow as tf

from tfxai.cam import base


class XGradCAM(base.CAM):
    """XGrad-CAM: `w_k = sum_ij (A_kij / sum_ab A_kab) * g_kij`.

    Channels whose activations sum to zero get weight zero.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.

    Example:
        >>> cams = XGradCAM(model)(images)

    Reference:
        Fu et al., "Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation
        of CNNs", BMVC 2020. https://arxiv.org/abs/2008.02312
    """

    def weights(self, activations, gradients):
        return tf.math.divide_no_nan(base.spatial_sum(activations * gradients),
                                     base.spatial_sum(activations))


def xgrad_cam(model, inputs, target=None, **options):
    """XGrad-CAM maps `(B, H, W)` float32 in [0, 1].

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `layer`, `output`, `logits`, `batch_size` (Integer, default 32) and
            `normalize` (Boolean, default True), as in `XGradCAM`.

    Returns:
        float32 numpy array `(B, H, W)`.

    Example:
        >>> cams = tfxai.xgrad_cam(model, images)

    Reference:
        https://arxiv.org/abs/2008.02312
    """
    return base.explain(XGradCAM, model, inputs, target, **options)
