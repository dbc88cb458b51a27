"""Feature visualization on Keras' ResNet50 (weights=None): inner layers, logits, nesting.

Random weights respond to no feature robustly: under the standard transforms a class
logit of this untrained ResNet50 may still fall after 10 steps (seen: -0.38 -> -0.51),
while without transforms it rises (-0.38 -> 0.47). The ascent checks run without them.
"""

import keras
import numpy as np
import pytest

from tests.conftest import assert_unchanged, get_model, snapshot
from tfxai.featurevis import channel, class_logit, render

LAYERS = ["conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"]


@pytest.fixture(scope="module")
def resnet():
    keras.utils.set_random_seed(0)
    return keras.applications.ResNet50(weights=None)


@pytest.mark.parametrize(
    "objective",
    [channel(layer, [0, 7]) for layer in LAYERS] + [class_logit([3, 999])],
    ids=LAYERS + ["class_logit"],
)
def test_resnet50_layers_and_logits(resnet, objective):
    before = snapshot(resnet)
    options = dict(size=64, preprocess="caffe", transforms=None, progress=False, seed=1)
    start = render(resnet, objective, steps=0, **options)
    end = render(resnet, objective, steps=10, **options)
    print(f"{objective.name}: {start.values} -> {end.values}")
    assert end.images.shape == (2, 64, 64, 3)
    assert np.all(end.values > start.values)
    assert_unchanged(before, resnet)


def test_nested_backbone_by_path():
    model = get_model("nested")  # keras ResNet50 as a layer of a Sequential
    before = snapshot(model)
    objective = channel("resnet50/conv4_block6_out", [1, 2, 3])
    start = render(model, objective, size=32, steps=0, transforms=None, progress=False)
    end = render(model, objective, size=32, steps=8, transforms=None, progress=False)
    assert np.all(end.values > start.values)
    assert_unchanged(before, model)
