"""RISE's causal metrics: deletion and insertion curves and their areas.

Pixels are ranked by decreasing saliency (ties in raster order). In `steps` equal chunks,
deletion replaces the most salient pixels of the image with a baseline, and insertion
copies them from the image into the baseline; after each chunk the fixed target class is
scored by its probability (softmax of the logits). The area under the curve of the
probability against the fraction of pixels changed, in [0, 1], is the score: low for
deletion and high for insertion mean the map found the pixels the model relies on.

All `B * (steps + 1)` altered images are built chunk by chunk and scored by one compiled
forward pass per chunk of `batch_size` images.

One idea: the two curves share ranking, baselines and scoring; kept whole because over
half its length is the two public docstrings.
"""

from __future__ import annotations

import collections
import warnings

import keras
import numpy as np
import tensorflow as tf

from tfxai import inputs as inputs_lib
from tfxai._typing import Explainer, Images, TargetLike
from tfxai.metrics import _checks, _filters, scoring

CausalCurves = collections.namedtuple("CausalCurves", ["auc", "curves", "fractions"])
CausalCurves.__doc__ = """Deletion/insertion results with the curves.

Attributes:
    auc: float32 `(B,)`, the area under each curve.
    curves: float32 `(B, steps + 1)`, the target probability after each step (step 0:
        nothing changed yet).
    fractions: float64 `(steps + 1,)`, the fraction of pixels changed at each step, from
        0 to 1.
"""

BLUR_SIGMA = 5.0
BLUR_RADIUS = 5


def blur(images: np.ndarray, sigma: float = BLUR_SIGMA, radius: int = BLUR_RADIUS) -> np.ndarray:
    """Gaussian blur of each image, the default insertion baseline (as in RISE).

    Args:
        images: float array `(B, H, W, C)`.
        sigma: Float, default 5.0. Standard deviation in pixels.
        radius: Integer, default 5. Half size of the kernel: RISE's 11x11 kernel with
            sigma 5. Borders repeat the edge pixels (RISE pads with zeros).

    Returns:
        float32 array `(B, H, W, C)`.

    Raises:
        ValueError: If `images` is not 4-D, `sigma` is not a finite number > 0 or `radius`
            is not an integer >= 0.

    Example:
        >>> start = blur(images)  # what insertion starts from by default
    """
    images = _checks.as_float_array(images, "images")
    if images.ndim != 4:
        raise ValueError(
            f"images: expected a batch of images of shape (batch, height, "
            f"width, channels), got shape {images.shape}."
        )
    sigma = inputs_lib.positive_float(sigma, "sigma")
    radius = inputs_lib.non_negative_int(radius, "radius")
    images = images.astype(np.float32)
    return _filters.gaussian_filter(images, sigma, radius, mode="nearest").astype(np.float32)


def baseline_images(
    baseline: float | str | np.ndarray, images: np.ndarray, name: str = "baseline"
) -> np.ndarray:
    """The baseline as an array broadcast to the images' shape.

    Args:
        baseline: A number, `"blurred"` (see `blur`) or an array broadcastable to the
            images (`(C,)`, `(H, W, C)` or `(B, H, W, C)`). `"blur"`, the former spelling,
            still works with a `DeprecationWarning`.
        images: Checked float32 images `(B, H, W, C)`.
        name: String, the argument name used in error messages.

    Raises:
        ValueError: On an unknown string, a shape that does not broadcast, or NaN/Inf.
    """
    if isinstance(baseline, str):
        if baseline == "blur":
            warnings.warn(
                f"{name}: 'blur' is deprecated, use 'blurred' (the same baseline; the "
                "spelling of tfxai.IntegratedGradients' baseline too).",
                DeprecationWarning,
                stacklevel=4,  # baseline_images < causal_curves < deletion/insertion < caller
            )
            baseline = "blurred"
        if baseline == "blurred":
            return blur(images)
        raise ValueError(
            f"{name}: expected a number, 'blurred' (formerly 'blur') or an array, got {baseline!r}."
        )
    array = inputs_lib.refuse_booleans(_checks.as_float_array(baseline, name), name)
    _checks.check_finite(array, name)
    try:
        return np.broadcast_to(array.astype(np.float32), images.shape)
    except ValueError:
        raise ValueError(
            f"{name}: expected a number, 'blurred' or an array broadcastable to "
            f"the inputs {images.shape}, e.g. (C,), (H, W, C) or (B, H, W, C); "
            f"got shape {array.shape}."
        ) from None


def pixel_ranks(maps: np.ndarray) -> np.ndarray:
    """int64 `(B, H, W)`: each pixel's rank by decreasing saliency (0 = most salient).

    Ties keep raster order (stable sort), so the ranking is deterministic.
    """
    flat = maps.reshape(len(maps), -1)
    order = np.argsort(-flat, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(flat.shape[1]), flat.shape), axis=1)
    return ranks.reshape(maps.shape)


def pixel_counts(num_pixels: int, steps: int) -> np.ndarray:
    """int64 `(steps + 1,)`: pixels changed after each step, `floor(k * num_pixels / steps)`."""
    return (np.arange(steps + 1, dtype=np.int64) * num_pixels) // steps


def area_under_curve(curves: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Trapezoid rule over `fractions` for each row of `curves`."""
    curves = np.asarray(curves, dtype=np.float64)
    widths = np.diff(np.asarray(fractions, dtype=np.float64))
    return np.sum(0.5 * (curves[:, 1:] + curves[:, :-1]) * widths, axis=1)


def causal_curves(
    mode: str,
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    steps: int,
    baseline: float | str | np.ndarray,
    batch_size: int,
    output: int | str | None = None,
    logits: bool = True,
) -> CausalCurves:
    """Deletion (`mode="deletion"`) or insertion curves; see `deletion` and `insertion`.

    Returns:
        A `CausalCurves`.
    """
    images, target = _checks.image_batch(inputs, model, target)
    count, height, width = images.shape[:3]
    num_pixels = height * width
    steps = _checks.positive_int(
        steps, "steps", high=num_pixels, what=" (at most the number of pixels per image)"
    )
    batch_size = _checks.positive_int(batch_size, "batch_size")
    maps = _checks.maps_or_explainer(maps, model, images)  # before any forward pass
    start = baseline_images(baseline, images)
    scorer = scoring.scorer_for(model, output=output, logits=logits)
    fixed, explainer_target = scorer.fixed_target(images, target, batch_size)
    saliency = _checks.resolve_maps(maps, model, images, explainer_target)
    probability = scorer.probability_target(fixed)
    params = fixed.bind(count)

    ranks = pixel_ranks(saliency)
    counts = pixel_counts(num_pixels, steps)
    image_ids = np.repeat(np.arange(count), steps + 1)
    step_ids = np.tile(np.arange(steps + 1), count)
    scores = np.empty(len(image_ids), dtype=np.float32)
    for first in range(0, len(image_ids), batch_size):
        ids = image_ids[first : first + batch_size]
        changed = ranks[ids] < counts[step_ids[first : first + batch_size], None, None]
        changed = changed[..., None]
        if mode == "deletion":
            altered = np.where(changed, start[ids], images[ids])
        else:
            altered = np.where(changed, images[ids], start[ids])
        chunk_params = tf.nest.map_structure(lambda a, ids=ids: np.asarray(a)[ids], params)
        scores[first : first + len(ids)] = scorer.score_batch(
            altered.astype(np.float32, copy=False), probability, chunk_params
        )

    curves = scores.reshape(count, steps + 1)
    fractions = counts / num_pixels
    auc = area_under_curve(curves, fractions).astype(np.float32)
    return CausalCurves(auc, curves, fractions)


def deletion(
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    steps: int = 50,
    baseline: float | str | np.ndarray = 0.0,
    batch_size: int = 32,
    return_curves: bool = False,
    output: int | str | None = None,
    logits: bool = True,
) -> np.ndarray | CausalCurves:
    """Deletion metric: area under the target probability as salient pixels are removed.

    Pixels are removed (set to the baseline) by decreasing saliency in `steps` equal
    chunks; lower is better. The target is fixed before any pixel is removed: `None` is
    the class predicted on the intact image, which is then scored on every altered copy.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        maps: Saliency maps `(B, H, W)`, or an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)` (e.g. `tfxai.grad_cam`)
            called with the fixed target (class ids when `target` is `None`), or an
            explainer instance built on `model` (`tfxai.GradCAM(model)`), not a class.
        target: `None` (predicted class), int, list of ints, callable or `Target`; scored on
            the softmax of the logits (whether the model ends in a softmax or not).
        steps: Integer, default 50. Number of equal chunks of pixels, in [1, H * W]; the
            curve has `steps + 1` points (RISE removes 224 pixels per step on 224x224).
        baseline: Float, `"blurred"` or array broadcastable to the inputs, default 0.0.
            What removed pixels become.
        batch_size: Integer, default 32. Altered images per compiled forward pass.
        return_curves: Boolean, default False. Also return the curves.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default True. Take the softmax of the logits behind a
            softmax/sigmoid output rather than of the output itself.

    Returns:
        float32 array `(B,)` of areas in [0, 1], or with `return_curves=True` a
        `CausalCurves(auc, curves, fractions)`.

    Raises:
        ValueError: If `maps` do not match the inputs or hold NaN, `steps` is not in
            [1, H * W], `baseline` does not broadcast, or `batch_size` < 1.
        TypeError: If `maps` is an explainer class or a string, or a flag is not a
            boolean.

    Example:
        >>> auc = tfxai.metrics.deletion(model, images, tfxai.grad_cam, steps=32)
        >>> auc.mean()

    Reference:
        Petsiuk et al., "RISE: Randomized Input Sampling for Explanation of Black-box
        Models", BMVC 2018. https://arxiv.org/abs/1806.07421
    """
    return_curves = inputs_lib.check_bool(return_curves, "return_curves")
    result = causal_curves(
        "deletion",
        model,
        inputs,
        maps,
        target,
        steps=steps,
        baseline=baseline,
        batch_size=batch_size,
        output=output,
        logits=logits,
    )
    return result if return_curves else result.auc


def insertion(
    model: keras.Model,
    inputs: Images,
    maps: np.ndarray | Explainer,
    target: TargetLike = None,
    *,
    steps: int = 50,
    baseline: float | str | np.ndarray = "blurred",
    batch_size: int = 32,
    return_curves: bool = False,
    output: int | str | None = None,
    logits: bool = True,
) -> np.ndarray | CausalCurves:
    """Insertion metric: area under the target probability as salient pixels are restored.

    Starting from the baseline (a blurred copy of the image by default, as in RISE), the
    image's pixels are inserted by decreasing saliency in `steps` equal chunks; higher is
    better. The target is fixed on the intact image (see `deletion`).

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        maps: Saliency maps `(B, H, W)`, or an explainer callable
            `explainer(model, inputs, target=target) -> (B, H, W)`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        steps: Integer, default 50. Number of equal chunks of pixels, in [1, H * W].
        baseline: `"blurred"` (default: Gaussian blur, sigma 5, 11x11, see `blur`; `"blur"`
            is the deprecated spelling), a float, or an array broadcastable to the inputs.
            What the curve starts from.
        batch_size: Integer, default 32. Altered images per compiled forward pass.
        return_curves: Boolean, default False. Also return the curves.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default True. Take the softmax of the logits behind a
            softmax/sigmoid output rather than of the output itself.

    Returns:
        float32 array `(B,)` of areas in [0, 1], or with `return_curves=True` a
        `CausalCurves(auc, curves, fractions)`.

    Raises:
        ValueError: As `deletion`.

    Example:
        >>> result = tfxai.metrics.insertion(model, images, cams, return_curves=True)
        >>> result.auc, result.curves.shape  # (B,), (B, 51)

    Reference:
        Petsiuk et al., "RISE: Randomized Input Sampling for Explanation of Black-box
        Models", BMVC 2018. https://arxiv.org/abs/1806.07421
    """
    return_curves = inputs_lib.check_bool(return_curves, "return_curves")
    result = causal_curves(
        "insertion",
        model,
        inputs,
        maps,
        target,
        steps=steps,
        baseline=baseline,
        batch_size=batch_size,
        output=output,
        logits=logits,
    )
    return result if return_curves else result.auc
