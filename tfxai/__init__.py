"""tfxai: explainability for Keras 3 / TensorFlow image models.

Every explainer is a function `fn(model, inputs, target=None, **options) -> (B, H, W)`
with a class twin that keeps its compiled graphs, e.g. `tfxai.grad_cam` / `tfxai.GradCAM`.
Feature visualization: `tfxai.render(model, tfxai.featurevis.channel(layer, c))` and
`tfxai.gallery(model, layers, out_dir=...)`. Keras callbacks for `model.fit`:
`tfxai.ExplanationCallback`, `tfxai.FeatureVisCallback`, `tfxai.ExplanationMetricsCallback`.

Importing the package is cheap: the names below load on first use (PEP 562), which imports
TensorFlow and every subpackage (`tfxai/_api.py`).
"""

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from tfxai import backend as _backend

__version__ = "0.1.0"
_backend.check_early()  # a wrong Keras backend fails here, with the fix

# The subpackages of `__all__`: imported on their own, never through the whole API (a
# submodule that runs `from tfxai import viz` while loading must not load its own parent).
_SUBPACKAGES = frozenset(
    (
        "attribution",
        "beam",  # not in __all__: it needs the `beam` extra (apache-beam)
        "callbacks",
        "datasets",
        "featurevis",
        "methods",
        "metrics",
        "models",
        "scale",
        "viz",
    )
)

if TYPE_CHECKING:  # the type checker and the docs read the names statically
    from tfxai._api import *


def __getattr__(name: str) -> Any:
    """Loads the public API on first use; `tfxai.METHODS` is the deprecated name of
    `tfxai.CAM_METHODS` (docs/names.md)."""
    if name == "METHODS":
        warnings.warn(
            "tfxai.METHODS is deprecated: use tfxai.CAM_METHODS (the CAM methods, the same "
            "dict) or tfxai.methods.METHODS (every method).",
            DeprecationWarning,
            stacklevel=2,
        )
        name = "CAM_METHODS"
    if name in _SUBPACKAGES:  # `from tfxai import viz` while another submodule loads
        return importlib.import_module(f"tfxai.{name}")
    if name in __all__:
        api = importlib.import_module("tfxai._api")
        globals().update({key: getattr(api, key) for key in __all__})
        return globals()[name]
    raise AttributeError(f"module 'tfxai' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "ATTRIBUTION_METHODS",
    "CAM_METHODS",
    "RISE",
    "AblationCAM",
    "EigenCAM",
    "Engine",
    "ExplanationCallback",
    "ExplanationMetricsCallback",
    "Explanations",
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
    "explain_dataset",
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
    "load_explanations",
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
    "scale",
    "score_cam",
    "smooth_grad",
    "square_grad",
    "to_target",
    "var_grad",
    "viz",
    "xgrad_cam",
]
