"""Attribution methods: gradients, the SmoothGrad family, IG, guided backprop, occlusion, RISE.

Every method has the explainer contract of the CAMs: a function
`fn(model, inputs, target=None, **options) -> (B, H, W)` float32 in [0, 1] (unless
`normalize=False`) and a class twin holding the compiled graphs. Gradient methods also
give per-channel attributions with `Class(model).attributions(inputs, target)`.
"""

from tfxai.attribution.base import REDUCTIONS, Attribution, reduce_channels
from tfxai.attribution.gradients import (
    GradientAttribution,
    GradientXInput,
    Saliency,
    gradient_x_input,
    saliency,
)
from tfxai.attribution.guided import GuidedBackprop, GuidedGradCAM, guided_backprop, guided_grad_cam
from tfxai.attribution.integrated import IntegratedGradients, integrated_gradients
from tfxai.attribution.noise import (
    SmoothGrad,
    SquareGrad,
    VarGrad,
    smooth_grad,
    square_grad,
    var_grad,
)
from tfxai.attribution.occlusion import Occlusion, occlusion
from tfxai.attribution.rise import RISE, rise

__all__ = [
    "ATTRIBUTION_METHODS",
    "REDUCTIONS",
    "RISE",
    "Attribution",
    "GradientAttribution",
    "GradientXInput",
    "GuidedBackprop",
    "GuidedGradCAM",
    "IntegratedGradients",
    "Occlusion",
    "Saliency",
    "SmoothGrad",
    "SquareGrad",
    "VarGrad",
    "gradient_x_input",
    "guided_backprop",
    "guided_grad_cam",
    "integrated_gradients",
    "occlusion",
    "reduce_channels",
    "rise",
    "saliency",
    "smooth_grad",
    "square_grad",
    "var_grad",
]

ATTRIBUTION_METHODS = {
    "saliency": Saliency,
    "gradient_x_input": GradientXInput,
    "smooth_grad": SmoothGrad,
    "var_grad": VarGrad,
    "square_grad": SquareGrad,
    "integrated_gradients": IntegratedGradients,
    "guided_backprop": GuidedBackprop,
    "guided_grad_cam": GuidedGradCAM,
    "occlusion": Occlusion,
    "rise": RISE,
}
