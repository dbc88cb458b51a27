"""Layer-CAM: every position weighted by its own positive gradient."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


class LayerCAM(base.CAM):
    """Layer-CAM: `relu(sum_k relu(g_kij) * A_kij)`.

    Per-position weights make it usable on shallow, high-resolution layers too.

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
        >>> cams = LayerCAM(model, layer="conv3_block4_out")(images)

    Reference:
        Jiang et al., "LayerCAM: Exploring Hierarchical Class Activation Maps for
        Localization", IEEE TIP 2021. https://doi.org/10.1109/TIP.2021.3089943
    """

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        return tf.nn.relu(gradients)


layer_cam = base.function_form(
    LayerCAM, "layer_cam", "Layer-CAM", "https://doi.org/10.1109/TIP.2021.3089943"
)
