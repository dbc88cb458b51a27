"""Average drop and increase in confidence (Grad-CAM++'s faithfulness metrics).

The explanation map of an image is `E = image * map` (the map in [0, 1] multiplies every
channel, in the model's input space). With `Y` the target class probability on the image
and `O` on `E` (softmax of the logits, target fixed on the image):

- average drop = `100 * mean(max(0, Y - O) / Y)`: lower is better;
- increase in confidence = `100 * mean(O > Y)`: higher is better.
"""

from __future__ import annotations

import keras
import numpy as np

from tfxai._typing import Explainer, Images, TargetLike
from tfxai.metrics import _checks, scoring


def explanation_scores(
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    batch_size: int = 32,
    output: int | str | None = None,
    logits: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Target probabilities on the images and on their explanation maps `image * map`.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        maps: Maps `(B, H, W)` in [0, 1], an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)`, or an explainer
            instance built on `model` (`tfxai.GradCAM(model)`), not a class.
        target: `None` (the class predicted on each image), int, list of ints, callable or
            `Target`; scored on the softmax of the logits.
        batch_size: Integer, default 32. Images per compiled forward pass.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default True. Take the softmax of the logits behind a
            softmax/sigmoid output rather than of the output itself.

    Returns:
        `(Y, O)`: float32 arrays `(B,)`, the probabilities on the images and on `E`.

    Raises:
        ValueError: If `maps` do not match the inputs, hold NaN or leave [0, 1].

    Example:
        >>> full, explained = explanation_scores(model, images, cams)
    """
    images, target = _checks.image_batch(inputs, model, target)
    batch_size = _checks.positive_int(batch_size, "batch_size")
    maps = _checks.maps_or_explainer(maps, model, images)  # before any forward pass
    if not _checks.is_explainer(maps):
        _checks.check_unit_range(maps)
    scorer = scoring.scorer_for(model, output=output, logits=logits)
    fixed, explainer_target = scorer.fixed_target(images, target, batch_size)
    saliency = _checks.resolve_maps(maps, model, images, explainer_target)
    _checks.check_unit_range(saliency)
    params = fixed.bind(len(images))
    full = scorer.probabilities(images, fixed, params, batch_size)
    explained = scorer.probabilities(images * saliency[..., None], fixed, params, batch_size)
    return full, explained


def drops(full: np.ndarray, explained: np.ndarray) -> np.ndarray:
    """Per-image drop in % `100 * max(0, Y - O) / Y` (0 where `Y` is 0), float64 `(B,)`;
    its mean is `average_drop`.

    Args:
        full: Target probabilities `Y` on the images, `(B,)`.
        explained: Target probabilities `O` on the explanation maps, `(B,)`.
    """
    full = np.asarray(full, np.float64)
    return 100.0 * np.maximum(0.0, full - explained) / np.where(full > 0, full, 1.0)


def average_drop(
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    batch_size: int = 32,
    output: int | str | None = None,
    logits: bool = True,
) -> float:
    """Average drop (%): how much target probability the explanation map loses.

    `100 * mean over images of max(0, Y - O) / Y`, with `Y` and `O` the target class
    probabilities on the image and on `image * map`. Lower is better.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        maps: Maps `(B, H, W)` in [0, 1], or an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)`.
        target: `None` (the class predicted on each image), int, list of ints, callable or
            `Target`.
        batch_size: Integer, default 32. Images per compiled forward pass.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default True. Softmax of the logits behind a softmax/sigmoid.

    Returns:
        Float in [0, 100]. Per-image values follow from `explanation_scores`.

    Raises:
        ValueError: If `maps` do not match the inputs, hold NaN or leave [0, 1].

    Example:
        >>> tfxai.metrics.average_drop(model, images, tfxai.grad_cam_plus_plus)

    Reference:
        Chattopadhay et al., "Grad-CAM++: Improved Visual Explanations for Deep
        Convolutional Networks", WACV 2018. https://arxiv.org/abs/1710.11063
    """
    full, explained = explanation_scores(
        model, inputs, maps, target, batch_size=batch_size, output=output, logits=logits
    )
    return float(np.mean(drops(full, explained)))


def increase_in_confidence(
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    batch_size: int = 32,
    output: int | str | None = None,
    logits: bool = True,
) -> float:
    """Increase in confidence (%): share of images whose explanation map scores higher.

    `100 * mean over images of [O > Y]`, with `Y` and `O` the target class probabilities on
    the image and on `image * map`. Higher is better.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        maps: Maps `(B, H, W)` in [0, 1], or an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)`.
        target: `None` (the class predicted on each image), int, list of ints, callable or
            `Target`.
        batch_size: Integer, default 32. Images per compiled forward pass.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default True. Softmax of the logits behind a softmax/sigmoid.

    Returns:
        Float in [0, 100].

    Raises:
        ValueError: If `maps` do not match the inputs, hold NaN or leave [0, 1].

    Example:
        >>> tfxai.metrics.increase_in_confidence(model, images, cams)

    Reference:
        Chattopadhay et al., "Grad-CAM++: Improved Visual Explanations for Deep
        Convolutional Networks", WACV 2018. https://arxiv.org/abs/1710.11063
    """
    full, explained = explanation_scores(
        model, inputs, maps, target, batch_size=batch_size, output=output, logits=logits
    )
    return float(100.0 * np.mean(explained > full))
