"""The Grad-CAM family: each method is a weighting function on the shared engine."""

import warnings
from typing import Any

from tfxai.cam.ablationcam import AblationCAM, ablation_cam
from tfxai.cam.base import CAM, clear_cache
from tfxai.cam.eigencam import EigenCAM, eigen_cam
from tfxai.cam.gradcam import GradCAM, grad_cam
from tfxai.cam.gradcam_plus_plus import GradCAMPlusPlus, grad_cam_plus_plus
from tfxai.cam.hirescam import HiResCAM, hires_cam
from tfxai.cam.layercam import LayerCAM, layer_cam
from tfxai.cam.scorecam import ScoreCAM, score_cam
from tfxai.cam.xgradcam import XGradCAM, xgrad_cam

__all__ = [
    "CAM",
    "CAM_METHODS",
    "AblationCAM",
    "EigenCAM",
    "GradCAM",
    "GradCAMPlusPlus",
    "HiResCAM",
    "LayerCAM",
    "ScoreCAM",
    "XGradCAM",
    "ablation_cam",
    "clear_cache",
    "eigen_cam",
    "grad_cam",
    "grad_cam_plus_plus",
    "hires_cam",
    "layer_cam",
    "score_cam",
    "xgrad_cam",
]

#: The CAM methods by name (`tfxai.attribution.ATTRIBUTION_METHODS`: the attributions;
#: `tfxai.methods.METHODS`: both).
CAM_METHODS = {
    "grad_cam": GradCAM,
    "grad_cam_plus_plus": GradCAMPlusPlus,
    "xgrad_cam": XGradCAM,
    "layer_cam": LayerCAM,
    "hires_cam": HiResCAM,
    "eigen_cam": EigenCAM,
    "score_cam": ScoreCAM,
    "ablation_cam": AblationCAM,
}


def __getattr__(name: str) -> Any:
    """Deprecated names: `tfxai.cam.METHODS` is `CAM_METHODS` (docs/names.md)."""
    if name == "METHODS":
        warnings.warn(
            "tfxai.cam.METHODS is deprecated: use tfxai.cam.CAM_METHODS (the same dict).",
            DeprecationWarning,
            stacklevel=2,
        )
        return CAM_METHODS
    raise AttributeError(f"module 'tfxai.cam' has no attribute {name!r}")
