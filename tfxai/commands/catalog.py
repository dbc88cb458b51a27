"""Static copies of the registries, for checks made before TensorFlow is imported.

`tfxai explain` refuses an unknown method or model name in milliseconds, without the
seconds TensorFlow takes to import. The tables copy `tfxai.methods.METHODS` (with
`tfxai.methods.takes_layer`) and `tfxai.models.available()`;
`tests/test_cli_catalog.py` fails when they drift apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: Every explainer of `tfxai.methods.METHODS` by name: does it take a `layer`?
METHOD_LAYERS: dict[str, bool] = {
    "grad_cam": True,
    "grad_cam_plus_plus": True,
    "xgrad_cam": True,
    "layer_cam": True,
    "hires_cam": True,
    "eigen_cam": True,
    "score_cam": True,
    "ablation_cam": True,
    "saliency": False,
    "gradient_x_input": False,
    "smooth_grad": False,
    "var_grad": False,
    "square_grad": False,
    "integrated_gradients": False,
    "guided_backprop": False,
    "guided_grad_cam": True,
    "occlusion": False,
    "rise": False,
}

#: The bundled models, `tfxai.models.available()`.
ZOO_MODELS: tuple[str, ...] = ("shapes-classifier", "shapes-gap-classifier", "shapes-unet")

#: Per-image metrics `tfxai explain-dataset --metrics` takes: `tfxai.scale.per_image`'s
#: faithfulness metrics (a folder of images has no object masks for the others).
DATASET_METRICS: tuple[str, ...] = (
    "deletion",
    "insertion",
    "average_drop",
    "increase_in_confidence",
)

#: `--preprocess` modes: the model's own input convention for [0, 1] RGB images.
PREPROCESS_MODES: tuple[str, ...] = ("none", "caffe", "tf", "torch")


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (difflib), or `None` when none is close.

    Args:
        word: String, what the user typed.
        choices: The valid names.

    Returns:
        String or `None`.

    Example:
        >>> closest("gradcam", METHOD_LAYERS)
        'grad_cam'
    """
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None
