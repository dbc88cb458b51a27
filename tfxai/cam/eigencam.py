"""Eigen-CAM: the activations projected on their first principal direction."""

from __future__ import annotations

import tensorflow as tf

from tfxai.cam import base


class EigenCAM(base.CAM):
    """Eigen-CAM: `relu(A v1)`, `v1` the first right singular vector of `A` as `(hw, K)`
    (`(dhw, K)` for volumes).

    Gradient- and class-free: the target is ignored. The sign of `v1` (which SVD leaves
    free) is chosen so that the projection sums to a positive value.

    Args:
        model: A Keras model; never changed.
        layer: Layer reference, default `None` (the last layer with a 4-D output; for a
            vision transformer, the last token layer whose patches are read).
        tokens: `None` (default: inferred) or `(height, width, skip)`, the patch grid of
            a `(batch, tokens, channels)` layer (`tfxai.tokens`).
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Unused (kept for a uniform signature).
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Example:
        >>> cams = EigenCAM(model)(images)

    Reference:
        Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal Components",
        IJCNN 2020. https://arxiv.org/abs/2008.00299
    """

    uses_gradients = False
    reads_layer = False  # any token layer, even one whose patches the output never reads

    def weights(self, activations: tf.Tensor, gradients: tf.Tensor | None) -> tf.Tensor:
        shape = tf.shape(activations)
        flat = tf.reshape(activations, [shape[0], -1, shape[-1]])  # (B, positions, K)
        _, _, v = tf.linalg.svd(flat, full_matrices=False)
        first = v[:, :, 0]
        projection = tf.reduce_sum(tf.linalg.matvec(flat, first), axis=1, keepdims=True)
        first = first * tf.where(projection < 0.0, -1.0, 1.0)
        for _ in base.spatial_axes(activations):
            first = first[:, None]
        return first  # (B, 1, 1, K), or (B, 1, 1, 1, K) for volumes


eigen_cam = base.function_form(
    EigenCAM, "eigen_cam", "Eigen-CAM (target ignored)", "https://arxiv.org/abs/2008.00299"
)
