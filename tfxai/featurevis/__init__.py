"""Feature visualization: optimize an input image so that a unit of a model fires.

Lucid-style recipe: images parameterized in a decorrelated, 1/f-scaled Fourier space
(`param`), made robust by small random transforms applied at each step (`transforms`),
optimized for objectives on inner layers, logits or segmentation maps (`objectives`) by
`render`; `gallery` renders every channel of some layers into PNG grids and HTML pages.
"""

from tfxai.featurevis import param, transforms
from tfxai.featurevis.gallery import gallery
from tfxai.featurevis.objectives import (
    OBJECTIVES,
    REGULARIZERS,
    blur,
    channel,
    class_logit,
    direction,
    diversity,
    l1,
    layer_energy,
    neuron,
    segmentation_class,
    total_variation,
)
from tfxai.featurevis.render import Renderer, Rendering, clear_cache, render

__all__ = [
    "OBJECTIVES",
    "REGULARIZERS",
    "Renderer",
    "Rendering",
    "blur",
    "channel",
    "class_logit",
    "clear_cache",
    "direction",
    "diversity",
    "gallery",
    "l1",
    "layer_energy",
    "neuron",
    "param",
    "render",
    "segmentation_class",
    "total_variation",
    "transforms",
]
