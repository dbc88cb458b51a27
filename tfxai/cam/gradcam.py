"""Grad-CAM: channels weighted by their spatially averaged gradient."""

import tensorflow as tf

from tfxai.cam import base


class GradCAM(base.CAM):
    """Grad-CAM: `relu(sum_k mean_ij(dS/dA_kij) * A_k)`.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.

    Example:
        >>> explainer = GradCAM(model, layer="resnet50/conv5_block3_out")
        >>> cams = explainer(images, target=[281, 282])  # (2, 224, 224) in [0, 1]

    Reference:
        Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
        Gradient-based Localization", ICCV 2017. https://arxiv.org/abs/1610.02391
    """

    def weights(self, activations, gradients):
        return tf.reduce_mean(gradients, axis=[1, 2], keepdims=True)


def grad_cam(model, inputs, target=None, **options):
    """Grad-CAM maps `(B, H, W)` float32 in [0, 1].

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `layer`, `output`, `logits`, `batch_size` (Integer, default 32) and
            `normalize` (Boolean, default True), as in `GradCAM`.

    Returns:
        float32 numpy array `(B, H, W)`.

    Raises:
        ValueError: On bad inputs, layer, target or output (the message names which).

    Example:
        >>> cams = tfxai.grad_cam(model, images, target=None, layer="conv5_block3_out")

    Reference:
        https://arxiv.org/abs/1610.02391
    """
    return base.explain(GradCAM, model, inputs, target, **options)
