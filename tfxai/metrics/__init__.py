"""Metrics of explanations: faithfulness, localization and sanity.

Each metric takes saliency maps `(B, H, W)` either precomputed or as an explainer callable
`explainer(model, inputs, target=target) -> (B, H, W)` (e.g. `tfxai.grad_cam`), or an
explainer instance built on the same model (`tfxai.GradCAM(model)`). Model
scores are class probabilities (softmax of the logits, found behind a softmax head), for a
target fixed on the unperturbed images; perturbed images run in compiled batched passes.

- `deletion`, `insertion`: RISE's causal metrics (areas under the probability curves).
- `average_drop`, `increase_in_confidence`: Grad-CAM++'s explanation-map metrics.
- `pointing_game`, `energy_pointing_game`, `iou`: localization against object masks.
- `sanity_check`: cascading model-parameter randomization (Adebayo et al. 2018).
"""

from tfxai.metrics.causal import CausalCurves, blur, deletion, insertion
from tfxai.metrics.confidence import (
    average_drop,
    explanation_scores,
    increase_in_confidence,
)
from tfxai.metrics.iou import iou
from tfxai.metrics.pointing import energy_pointing_game, pointing_game
from tfxai.metrics.sanity import SanityCheckResult, sanity_check
from tfxai.metrics.scoring import clear_cache

__all__ = [
    "CausalCurves",
    "SanityCheckResult",
    "average_drop",
    "blur",
    "clear_cache",
    "deletion",
    "energy_pointing_game",
    "explanation_scores",
    "increase_in_confidence",
    "insertion",
    "iou",
    "pointing_game",
    "sanity_check",
]
