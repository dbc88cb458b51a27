"""The flat public API of tfxai, loaded on first use by `tfxai.__getattr__`.

`import tfxai` itself imports nothing heavy (the command line answers bad arguments
before TensorFlow starts); the first `tfxai.<name>` imports this module, which imports
TensorFlow, Keras and every subpackage, and `tfxai` then holds all of its names.
"""

from tfxai import (
    attribution,
    cache,
    callbacks,
    datasets,
    featurevis,
    methods,
    metrics,
    models,
    scale,
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
from tfxai.scale import Explanations, explain_dataset, load_explanations
from tfxai.targets import Target, class_score, from_callable, mask_score, predicted, to_target


def clear_cache() -> None:
    """Drops every cache of the package (`tfxai.cache`): the explainers of the function
    forms, the metrics' scorers and the compiled render steps, with the models they hold.

    Example:
        >>> cams = tfxai.grad_cam(model, images)  # keeps a compiled GradCAM of `model`
        >>> tfxai.clear_cache()  # drops it, and with it the cache's reference to `model`
    """
    cache.clear()
