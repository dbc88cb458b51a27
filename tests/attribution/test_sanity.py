"""Cascading model-randomization sanity check (Adebayo et al. 2018) of every attribution.

Run on the bundled shapes classifier, full cascade (23 weighted layers, logits first),
Spearman rank correlation with the intact model's maps. The pattern this test records:

- every gradient method (saliency, gradient x input, the SmoothGrad family, IG, guided
  backprop, Guided Grad-CAM) and occlusion lose their maps: the mean similarity after
  the whole cascade is near zero;
- guided backprop is NOT invariant here, unlike on the ImageNet CNNs of Adebayo et al.:
  it tracks plain saliency step for step. This classifier ends in global max pooling,
  so the gradient reaches only the receptive field of the arg-max location, for guided
  and plain backprop alike; randomizing `class_map` moves that location and both maps
  change together. Our metric shows this; it does not smooth it away;
- RISE keeps a floor of similarity on a fully random model: the intact and randomized
  runs share the same seeded masks, whose sampling pattern survives in both maps.
"""

import functools

import numpy as np
import pytest

import tfxai
import tfxai.metrics
from tfxai import datasets, demo, models

OPTIONS = {
    "smooth_grad": {"samples": 8},
    "var_grad": {"samples": 8},
    "square_grad": {"samples": 8},
    "integrated_gradients": {"steps": 16},
    "guided_grad_cam": {"layer": demo.CLASSIFIER_LAYER},
    "occlusion": {"patch": 16, "stride": 8},
    "rise": {"masks": 300},
}


@pytest.fixture(scope="module")
def cascades():
    model = models.load("shapes-classifier")
    data = datasets.make_shapes(6, seed=31337)
    results = {}
    for name in tfxai.ATTRIBUTION_METHODS:
        explainer = functools.partial(getattr(tfxai, name), **OPTIONS.get(name, {}))
        results[name] = tfxai.metrics.sanity_check(
            model, data.images, explainer, target=list(data.labels)
        )
    print("\nmean Spearman after randomizing down to: first layer / 5 / 10 / all")
    for name, result in results.items():
        mean = result.mean
        print(f"{name:22s} {mean[0]:.3f} {mean[4]:.3f} {mean[9]:.3f} {mean[-1]:.3f}")
    return results


def test_the_full_cascade_randomizes_every_weighted_layer(cascades):
    result = cascades["saliency"]
    assert len(result.layers) == 23
    assert result.layers[0] == "class_map" and result.layers[-1] == "stem_conv"


@pytest.mark.parametrize("name", [n for n in tfxai.ATTRIBUTION_METHODS if n != "rise"])
def test_maps_are_lost_after_the_full_cascade(cascades, name):
    mean = cascades[name].mean
    assert abs(mean[-1]) < 0.25, mean
    assert mean.min() < 0.25, mean


def test_guided_backprop_tracks_saliency_on_a_max_pooled_classifier(cascades):
    guided, plain = cascades["guided_backprop"].mean, cascades["saliency"].mean
    assert np.max(np.abs(guided - plain)) < 0.1


def test_rise_keeps_a_floor_from_its_shared_masks(cascades):
    rise, saliency = cascades["rise"].mean, cascades["saliency"].mean
    assert rise[-1] > 0.1
    assert rise[-1] > saliency[-1] + 0.1
