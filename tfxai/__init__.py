"""tfxai: explainability for Keras 3 / TensorFlow image models.

Every explainer is a function `fn(model, inputs, target=None, **options) -> (B, H, W)`
with a class twin that keeps its compiled graphs, e.g. `tfxai.grad_cam` / `tfxai.GradCAM`.
Feature visualization: `tfxai.render(model, tfxai.featurevis.channel(layer, c))` and
`tfxai.gallery(model, layers, out_dir=...)`. Keras callbacks for `model.fit`:
`tfxai.ExplanationCallback`, `tfxai.FeatureVisCallback`, `tfxai.ExplanationMetricsCallback`.
"""

import warnings
from typing import Any

from tfxai import (
    attribution,
    cache,
    callbacks,
    datasets,
    featurevis,
    methods,
    metrics,
    models,
    viz,
)
from tfxai.attribution import (
    ATTRIBUTION_METHODS,
    RISE,
    GradientXInput,
    GuidedBackprop,
    GuidedGradCAM,
    IntegratedGradients,
    Occlusion,
    Saliency,
    SmoothGrad,
    SquareGrad,
    VarGrad,
    gradient_x_input,
    guided_backprop,
    guided_grad_cam,
    integrated_gradients,
    occlusion,
    rise,
    saliency,
    smooth_grad,
    square_grad,
    var_grad,
)
from tfxai.callbacks import ExplanationCallback, ExplanationMetricsCallback, FeatureVisCallback
from tfxai.cam import (
    CAM_METHODS,
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    XGradCAM,
    ablation_cam,
    eigen_cam,
    grad_cam,
    grad_cam_plus_plus,
    hires_cam,
    layer_cam,
    score_cam,
    xgrad_cam,
)
from tfxai.engine import Engine, layer_paths, resolve_layer
from tfxai.featurevis import Rendering, gallery, render
from tfxai.targets import Target, class_score, from_callable, mask_score, predicted, to_target

__version__ = "0.1.0"


def clear_cache() -> None:
    """Drops every cache of the package (`tfxai.cache`): the explainers of the function
    forms, the metrics' scorers and the compiled render steps, with the models they hold.

    Example:
        >>> cams = tfxai.grad_cam(model, images)  # keeps a compiled GradCAM of `model`
        >>> tfxai.clear_cache()  # drops it, and with it the cache's reference to `model`
    """
    cache.clear()


def __getattr__(name: str) -> Any:
    """Deprecated names: `tfxai.METHODS` is `tfxai.CAM_METHODS` (docs/names.md)."""
    if name == "METHODS":
        warnings.warn(
            "tfxai.METHODS is deprecated: use tfxai.CAM_METHODS (the CAM methods, the same "
            "dict) or tfxai.methods.METHODS (every method).",
            DeprecationWarning,
            stacklevel=2,
        )
        return CAM_METHODS
    raise AttributeError(f"module 'tfxai' has no attribute {name!r}")


__all__ = [
    "ATTRIBUTION_METHODS",
    "CAM_METHODS",
    "RISE",
    "AblationCAM",
    "EigenCAM",
    "Engine",
    "ExplanationCallback",
    "ExplanationMetricsCallback",
    "FeatureVisCallback",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientXInput",
    "GuidedBackprop",
    "GuidedGradCAM",
    "HiResCAM",
    "IntegratedGradients",
    "LayerCAM",
    "Occlusion",
    "Rendering",
    "Saliency",
    "ScoreCAM",
    "SmoothGrad",
    "SquareGrad",
    "Target",
    "VarGrad",
    "XGradCAM",
    "ablation_cam",
    "attribution",
    "callbacks",
    "class_score",
    "clear_cache",
    "datasets",
    "eigen_cam",
    "featurevis",
    "from_callable",
    "gallery",
    "grad_cam",
    "grad_cam_plus_plus",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "hires_cam",
    "integrated_gradients",
    "layer_cam",
    "layer_paths",
    "mask_score",
    "methods",
    "metrics",
    "models",
    "occlusion",
    "predicted",
    "render",
    "resolve_layer",
    "rise",
    "saliency",
    "score_cam",
    "smooth_grad",
    "square_grad",
    "to_target",
    "var_grad",
    "viz",
    "xgrad_cam",
]
