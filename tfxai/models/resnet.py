"""ResNet50: the real `keras.applications.ResNet50`, taking images in [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

import os

import keras

from tfxai.inputs import check_bool

_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="tfxai")
class CaffePreprocessing(keras.layers.Layer):
    """Maps RGB images in [0, 1] to Keras' "caffe" input: BGR in [0, 255] minus the mean.

    The same as `keras.applications.resnet50.preprocess_input(255 * images)`, as a layer
    without weights.
    """

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        bgr = keras.ops.flip(keras.ops.cast(inputs, self.compute_dtype), axis=-1) * 255.0
        return bgr - keras.ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=self.compute_dtype)


def resnet50(
    weights: str | os.PathLike[str] | None = None,
    input_shape: Sequence[int] = (224, 224, 3),
    classes: int = 1000,
    *,
    preprocessing: bool = True,
) -> keras.Model:
    """The Keras ResNet50 classifier (softmax over `classes`), layer names unchanged.

    With `preprocessing=True` the model takes RGB images in [0, 1] and applies the caffe
    preprocessing itself (a weightless `CaffePreprocessing` layer before the stem), so
    the ResNet layers keep their names (`"conv5_block3_out"`, ...) in one flat model.

    Args:
        weights: `None` (default, random init), `"imagenet"` (downloaded by Keras: needs
            the network or Keras' cache; `classes` must be 1000), or a path to a weights
            file (`.weights.h5` or a Keras 2 `.h5`) loaded with `model.load_weights`.
        input_shape: Tuple, default `(224, 224, 3)`. At least 32 px per side.
        classes: Integer, default 1000. Size of the softmax output.
        preprocessing: Boolean, default True. Take [0, 1] RGB images (else the caller
            applies `keras.applications.resnet50.preprocess_input` to [0, 255] images).

    Returns:
        A Functional `keras.Model` named `"resnet50"`, output `(B, classes)` probabilities.

    Raises:
        ValueError: If `weights` is neither `None`, `"imagenet"` nor an existing file, or
            the file cannot be loaded into the model.
        TypeError: If `preprocessing` is not a boolean.

    Example:
        >>> model = tfxai.models.resnet50(input_shape=(64, 64, 3), classes=10)
        >>> cams = tfxai.grad_cam(model, images, layer="conv5_block3_out")

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
        https://arxiv.org/abs/1512.03385
    """
    preprocessing = check_bool(preprocessing, "preprocessing")
    path = None
    if weights is not None and weights != "imagenet":
        path = os.fspath(weights) if isinstance(weights, (str, os.PathLike)) else None
        if path is None or not os.path.isfile(path):
            raise ValueError(
                f"weights: expected None, 'imagenet' or the path of a weights "
                f"file, got {weights!r} (no such file)."
            )
    kwargs = {
        "weights": None if path else weights,
        "input_shape": tuple(input_shape),
        "classes": classes,
    }
    if preprocessing:
        inputs = keras.Input(tuple(input_shape), name="image")
        kwargs["input_tensor"] = CaffePreprocessing(name="caffe_preprocessing")(inputs)
    model = keras.applications.ResNet50(**kwargs)
    if preprocessing:  # the same layers, with a single-tensor input structure
        model = keras.Model(inputs, model.output, name=model.name)
    if path:
        try:
            model.load_weights(path)
        except Exception as err:  # Keras raises many kinds for a file it cannot read
            message = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ValueError(
                f"weights: cannot load {path!r} into ResNet50 "
                f"({type(err).__name__}: {message}); expected a .weights.h5 "
                f"or Keras 2 .h5 file of the same architecture."
            ) from None
    return model
