"""The Grad-CAM family: each method is a weighting function on the shared engine."""

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
    "CAM", "clear_cache", "METHODS", "GradCAM", "grad_cam", "GradCAMPlusPlus",
    "grad_cam_plus_plus", "XGradCAM", "xgrad_cam", "LayerCAM", "layer_cam", "HiResCAM",
    "hires_cam", "EigenCAM", "eigen_cam", "ScoreCAM", "score_cam", "AblationCAM",
    "ablation_cam",
]

METHODS = {
    "grad_cam": GradCAM,
    "grad_cam_plus_plus": GradCAMPlusPlus,
    "xgrad_cam": XGradCAM,
    "layer_cam": LayerCAM,
    "hires_cam": HiResCAM,
    "eigen_cam": EigenCAM,
    "score_cam": ScoreCAM,
    "ablation_cam": AblationCAM,
}
