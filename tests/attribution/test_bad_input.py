"""Bad options and inputs fail early with a ValueError naming the argument."""

import numpy as np
import pytest

import tfxai
import tfxai.attribution as A
from tests.conftest import SIZE, assert_unchanged, get_model, snapshot

IMAGES = np.zeros((2, SIZE, SIZE, 3), np.float32)

CASES = {
    "steps_zero": (
        A.integrated_gradients,
        dict(steps=0),
        r"steps: expected a positive integer, got 0",
    ),
    "steps_float": (A.integrated_gradients, dict(steps=2.5), r"steps: expected a positive"),
    "baseline_name": (
        A.integrated_gradients,
        dict(baseline="white"),
        r"baseline: expected one of 'black', 'blurred', 'uniform'.*'white'",
    ),
    "baseline_shape": (
        A.integrated_gradients,
        dict(baseline=np.zeros((SIZE, SIZE, 4))),
        r"baseline: expected an array broadcastable to the image shape \(32, 32, 3\), "
        r"got shape \(32, 32, 4\)",
    ),
    "baseline_batch": (
        A.integrated_gradients,
        dict(baseline=np.zeros((3, SIZE, SIZE, 3))),
        r"baseline: got 3 baselines for 2 images; expected one per image",
    ),
    "baseline_image": (
        A.integrated_gradients,
        dict(baseline=np.zeros((2, 16, 16, 3))),
        r"baseline: expected baselines of the image shape",
    ),
    "baseline_nan": (
        A.integrated_gradients,
        dict(baseline=np.full((SIZE, SIZE, 3), np.nan)),
        r"baseline: contains NaN",
    ),
    "noise_negative": (
        A.smooth_grad,
        dict(noise=-0.1),
        r"noise: expected a finite number >= 0, got -0.1",
    ),
    "noise_nan": (A.var_grad, dict(noise=float("nan")), r"noise: expected a finite number"),
    "samples_zero": (A.square_grad, dict(samples=0), r"samples: expected a positive integer"),
    "seed_negative": (A.smooth_grad, dict(seed=-1), r"seed: expected an integer >= 0"),
    "method_name": (
        A.smooth_grad,
        dict(method="grad_cam"),
        r"method: expected one of saliency, .*'grad_cam'",
    ),
    "method_options": (A.smooth_grad, dict(method=None), r"method: expected one of"),
    "reduce": (
        A.saliency,
        dict(reduce="median"),
        r"reduce: expected one of 'max', 'mean', 'sum', 'norm', got 'median'",
    ),
    "patch_large": (
        A.occlusion,
        dict(patch=33),
        r"patch: \(33, 33\) is larger than the images \(32, 32\)",
    ),
    "patch_zero": (A.occlusion, dict(patch=0), r"patch: expected a positive integer"),
    "stride_bad": (A.occlusion, dict(stride=(2, 0)), r"stride: expected a positive integer"),
    "fill_bad": (A.occlusion, dict(fill="median"), r"fill: expected a number or \"mean\""),
    "masks_zero": (A.rise, dict(masks=0), r"masks: expected a positive integer"),
    "p_zero": (A.rise, dict(p=0.0), r"p: expected a probability in \(0, 1\]"),
    "cell_large": (A.rise, dict(cell=40, masks=2), r"cell: \(40, 40\) is larger than the images"),
    "batch_size": (A.saliency, dict(batch_size=0), r"batch_size: expected a positive integer"),
    "class_range": (A.rise, dict(target=7, masks=2), r"target: class index 7 is out of range"),
    "inputs_rank": (
        A.saliency,
        dict(inputs=np.zeros((SIZE, SIZE, 3))),
        r"inputs: .*pass inputs\[None\]",
    ),
    "inputs_nan": (
        A.integrated_gradients,
        dict(inputs=np.full((1, SIZE, SIZE, 3), np.nan)),
        r"inputs: .*NaN",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_argument(case):
    model = get_model("sequential")
    before = snapshot(model)
    function, overrides, message = CASES[case]
    call = dict(inputs=IMAGES, target=[0, 1])
    call.update(overrides)
    with pytest.raises(ValueError, match=message):
        function(model, **call)
    assert_unchanged(before, model)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def test_method_instance_must_explain_the_same_model():
    model, other = get_model("sequential"), get_model("functional")
    with pytest.raises(
        ValueError,
        match=r"method: the explainer instance explains model "
        r"'functional', not 'sequential'",
    ):
        A.SmoothGrad(model, A.Saliency(other))
    with pytest.raises(ValueError, match=r"method: options \['keep_sign'\] cannot"):
        A.SmoothGrad(model, A.Saliency(model), keep_sign=True)


def test_mask_score_on_a_classifier_names_the_target():
    model = get_model("sequential")
    mask = np.ones((SIZE, SIZE), bool)
    with pytest.raises(ValueError, match=r"target: mask_score needs a dense"):
        A.saliency(model, IMAGES, tfxai.mask_score(1, mask))
    with pytest.raises(ValueError, match=r"target: mask_score needs a dense"):
        A.occlusion(model, IMAGES, tfxai.mask_score(1, mask))
