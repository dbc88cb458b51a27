"""The explainer contract of DESIGN.md for every attribution method.

Every method over every model kind (the nested ResNet50 backbone with a few methods only:
each traces a full ResNet50 gradient graph), segmentation targets, datasets, batch
splitting, no retracing, and the model left untouched.
"""

import numpy as np
import pytest
import tensorflow as tf

import tfxai
import tfxai.attribution as A
from tests.attribution import models
from tests.conftest import MODEL_KINDS, SIZE, assert_unchanged, get_model, snapshot

# Small options so that every method stays fast on every model kind.
FAST = {
    "smooth_grad": {"samples": 3},
    "var_grad": {"samples": 3},
    "square_grad": {"samples": 3},
    "integrated_gradients": {"steps": 4},
    "occlusion": {"patch": 16, "stride": 16},
    "rise": {"masks": 12, "cell": 8},
}
NESTED_METHODS = ("saliency", "occlusion")  # + guided backprop in its own test below
FUNCTIONS = {name: getattr(A, name) for name in A.ATTRIBUTION_METHODS}


def _cases():
    for kind in MODEL_KINDS:
        for method in A.ATTRIBUTION_METHODS:
            if kind == "nested" and method not in NESTED_METHODS:
                continue
            yield pytest.param(kind, method, id=f"{kind}-{method}")


@pytest.mark.parametrize("kind, method", list(_cases()))
def test_every_method_on_every_model_kind(kind, method, images):
    model = get_model(kind)
    options = dict(MODEL_KINDS[kind][1], **FAST.get(method, {}))
    before = snapshot(model)
    predictions = model(images, training=False)
    explainer = A.ATTRIBUTION_METHODS[method](model, **options)

    maps = explainer(images, target=[0, 1, 2])

    assert maps.shape == (len(images), SIZE, SIZE) and maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and maps.min() >= 0.0 and maps.max() <= 1.0
    for single in maps:  # min-max normalized: spans [0, 1] unless all zero
        assert single.max() in (0.0, 1.0) and single.min() == 0.0
    assert maps.max() == 1.0
    raw = explainer(images, target=[0, 1, 2], normalize=False)
    assert raw.dtype == np.float32
    np.testing.assert_allclose(maps, A.base.normalize_maps(raw), atol=1e-6)
    function = FUNCTIONS[method](model, images, target=[0, 1, 2], **options)
    np.testing.assert_allclose(function, maps, atol=1e-5)
    traces = explainer.engine.traces
    explainer(images[:2], target=[2, 0], batch_size=1)
    assert explainer.engine.traces == traces  # batch sizes share the compiled graphs

    assert_unchanged(before, model)
    for after, original in zip(
        tf.nest.flatten(model(images, training=False)), tf.nest.flatten(predictions)
    ):
        np.testing.assert_array_equal(after, original)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def test_guided_backprop_reaches_into_a_nested_backbone(images):
    """The ReLUs of the nested ResNet50 are guided: the gradient changes, the model not."""
    model = get_model("nested")
    before = snapshot(model)
    outputs = model(images, training=False)
    guided = A.GuidedBackprop(model, keep_sign=True).attributions(images, [1, 2, 3])
    assert len(A.guided.relu_layers(model)) >= 49  # the backbone's Activation("relu")s
    assert_unchanged(before, model)
    np.testing.assert_array_equal(model(images, training=False), outputs)
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))
    plain = A.Saliency(model, keep_sign=True).attributions(images, [1, 2, 3])
    assert np.abs(guided - plain).max() > 0.1 * np.abs(plain).max()


def test_repeated_calls_never_retrace(images):
    model = get_model("functional")
    rng = np.random.default_rng(1)
    calls = [(3, None), (3, [0, 1, 2]), (5, 4), (1, [2]), (3, None), (8, 1)]
    for name, cls in A.ATTRIBUTION_METHODS.items():
        explainer = cls(model, **FAST.get(name, {}))
        explainer(images, target=None)
        explainer(images, target=[0, 1, 2])
        traces = explainer.engine.traces
        for batch, target in calls:
            explainer(
                rng.uniform(size=(batch, SIZE, SIZE, 3)),
                target=target,
                batch_size=[2, 4, 32][batch % 3],
            )
        assert explainer.engine.traces == traces, name
        assert traces <= 4, (name, traces)


def test_function_forms_reuse_their_compiled_explainer(images):
    model = get_model("sequential")
    tfxai.clear_cache()
    for _ in range(3):
        A.smooth_grad(model, images, [1, 2, 3], samples=2)
        A.integrated_gradients(
            model, images, [1, 2, 3], steps=3, baseline=np.zeros((SIZE, SIZE, 3), np.float32)
        )
    explainers = list(tfxai.cam.base._cache.values())
    assert len(explainers) == 2
    assert all(e.engine.traces == 1 for e in explainers)
    tfxai.clear_cache()


def test_dataset_inputs_match_array_inputs(images):
    model = get_model("sequential")
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(len(images)))).batch(2)
    for method in ("saliency", "smooth_grad", "integrated_gradients", "rise"):
        options = FAST.get(method, {})
        np.testing.assert_allclose(
            FUNCTIONS[method](model, dataset, target=3, **options),
            FUNCTIONS[method](model, images, target=3, **options),
            atol=1e-5,
            err_msg=method,
        )
    np.testing.assert_allclose(
        A.saliency(model, tf.constant(images), 3), A.saliency(model, images, 3), atol=1e-6
    )


@pytest.mark.parametrize("method", list(A.ATTRIBUTION_METHODS))
def test_batch_size_does_not_change_the_maps(method, images):
    model = get_model("sequential")
    options = FAST.get(method, {})
    whole = FUNCTIONS[method](model, images, [0, 3, 4], normalize=False, **options)
    split = FUNCTIONS[method](model, images, [0, 3, 4], normalize=False, batch_size=2, **options)
    np.testing.assert_allclose(split, whole, rtol=1e-4, atol=1e-5 * np.abs(whole).max())


def test_none_target_is_the_clean_prediction_for_perturbing_methods(images):
    model = get_model("sequential")
    predicted = [int(c) for c in model.predict(images, verbose=0).argmax(-1)]
    for method in ("smooth_grad", "integrated_gradients", "occlusion", "rise", "saliency"):
        options = FAST.get(method, {})
        np.testing.assert_allclose(
            FUNCTIONS[method](model, images, **options),
            FUNCTIONS[method](model, images, predicted, **options),
            atol=1e-6,
            err_msg=method,
        )


# --------------------------------------------------------------------------- segmentation


@pytest.fixture(scope="module")
def segmenter():
    return models.segmenter()


LOCAL_METHODS = (
    "saliency",
    "gradient_x_input",
    "smooth_grad",
    "var_grad",
    "square_grad",
    "integrated_gradients",
    "guided_backprop",
    "occlusion",
)


@pytest.mark.parametrize("method", list(A.ATTRIBUTION_METHODS))
def test_mask_score_targets_on_a_segmentation_model(method, segmenter):
    """A corner mask: each output pixel sees a 5 x 5 window, so only the corner lights."""
    x = np.random.default_rng(3).uniform(0, 1, (2, 24, 24, 3)).astype(np.float32)
    mask = np.zeros((24, 24), bool)
    mask[:4, :4] = True
    options = dict(FAST.get(method, {}))
    if method == "occlusion":
        options.update(patch=4, stride=4)
    if method == "guided_grad_cam":
        options["layer"] = "dec"
    maps = FUNCTIONS[method](
        segmenter, x, tfxai.mask_score([1, 2], mask), normalize=False, **options
    )
    assert maps.shape == (2, 24, 24) and np.all(np.isfinite(maps))
    assert np.abs(maps).max() > 0
    if method in LOCAL_METHODS:
        scale = np.abs(maps).max()
        assert np.abs(maps[:, :6, :6]).min(axis=0).max() > 0
        assert np.abs(maps[:, 8:, :]).max() <= 1e-5 * scale
        assert np.abs(maps[:, :, 8:]).max() <= 1e-5 * scale
    predicted = FUNCTIONS[method](segmenter, x, **options)  # target=None on a dense output
    assert predicted.shape == (2, 24, 24) and np.all(np.isfinite(predicted))


def _rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_memory_does_not_grow_over_100_calls(images):
    model = get_model("functional")
    explainers = [A.SmoothGrad(model, samples=4), A.IntegratedGradients(model, steps=4)]
    for _ in range(10):
        for explainer in explainers:
            explainer(images, target=[0, 1, 2])
    start = _rss_kib()
    for _ in range(50):
        for explainer in explainers:
            explainer(images, target=[0, 1, 2])
    growth = (_rss_kib() - start) / start
    assert growth < 0.10, f"RSS grew {growth:.1%} over 100 calls"
