"""Feature visualization: optimize an input image so that a unit of a model fires.

Lucid-style recipe: images parameterized in a decorrelated, 1/f-scaled Fourier space
(`param`), made robust by small random transforms applied at each step (`transforms`),
optimized for objectives on inner layers, logits or segmentation maps (`objectives`) by
`render`; `gallery` renders every channel of some layers into PNG grids and HTML pages.
"""

from tfxai.featurevis import param, transforms
from tfxai.featurevis.gallery import gallery
from tfxai.featurevis.objectives import (OBJECTIVES, REGULARIZERS, blur, channel, class_logit,
                                         diversity, direction, l1, layer_energy, neuron,
                                         segmentation_class, total_variation)
from tfxai.featurevis.render import Renderer, Rendering, clear_cache, render

__all__ = [
    "param", "transforms", "gallery", "render", "Renderer", "Rendering", "clear_cache",
    "OBJECTIVES",
    "REGULARIZERS", "channel", "neuron", "layer_energy", "direction", "class_logit",
    "segmentation_class", "diversity", "l1", "total_variation", "blur",
]
