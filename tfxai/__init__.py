"""tfxai: explainability for Keras 3 / TensorFlow image models.

Every explainer is a function `fn(model, inputs, target=None, **options) -> (B, H, W)`
with a class twin that keeps its compiled graphs, e.g. `tfxai.grad_cam` / `tfxai.GradCAM`.
"""

from tfxai.cam import (METHODS, AblationCAM, EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM,
                       LayerCAM, ScoreCAM, XGradCAM, ablation_cam, clear_cache, eigen_cam,
                       grad_cam, grad_cam_plus_plus, hires_cam, layer_cam, score_cam,
                       xgrad_cam)
from tfxai import metrics, viz
from tfxai.engine import Engine, layer_paths, resolve_layer
from tfxai.targets import Target, class_score, from_callable, mask_score, predicted, to_target

__version__ = "0.1.0"

__all__ = [
    "METHODS", "AblationCAM", "EigenCAM", "GradCAM", "GradCAMPlusPlus", "HiResCAM", "LayerCAM",
    "ScoreCAM", "XGradCAM", "ablation_cam", "clear_cache", "eigen_cam", "grad_cam",
    "grad_cam_plus_plus", "hires_cam", "layer_cam", "score_cam", "xgrad_cam", "metrics", "viz", "Engine",
    "layer_paths", "resolve_layer", "Target", "class_score", "from_callable", "mask_score",
    "predicted", "to_target",
]
