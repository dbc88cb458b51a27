"""Layer-CAM: every position weighted by its own positive gradient."""

import tensorflow as tf

from tfxai.cam import base


class LayerCAM(base.CAM):
    """Layer-CAM: `relu(sum_k relu(g_kij) * A_kij)`.

    Per-position weights make it usable on shallow, high-resolution layers too.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.

    Example:
        >>> cams = LayerCAM(model, layer="conv3_block4_out")(images)

    Reference:
        Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
        Localization", IEEE TIP 2021. https://doi.org/10.1109/TIP.2021.3089943
    """

    def weights(self, activations, gradients):
        return tf.nn.relu(gradients)


def layer_cam(model, inputs, target=None, **options):
    """Layer-CAM maps `(B, H, W)` float32 in [0, 1].

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `layer`, `output`, `logits`, `batch_size` (Integer, default 32) and
            `normalize` (Boolean, default True), as in `LayerCAM`.

    Returns:
        float32 numpy array `(B, H, W)`.

    Example:
        >>> cams = tfxai.layer_cam(model, images, layer="conv3_block4_out")

    Reference:
        https://doi.org/10.1109/TIP.2021.3089943
    """
    return base.explain(LayerCAM, model, inputs, target, **options)
