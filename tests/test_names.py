"""One spelling per idea (docs/names.md): the new names work, the old ones warn and agree."""

import importlib
import inspect
import warnings

import numpy as np
import pytest

import tfxai
from tests.conftest import sequential_model
from tfxai.metrics import causal


def test_cam_methods_is_the_name_and_tfxai_methods_warns():
    assert "CAM_METHODS" in tfxai.__all__ and "METHODS" not in tfxai.__all__
    assert set(tfxai.CAM_METHODS) == {
        "grad_cam",
        "grad_cam_plus_plus",
        "xgrad_cam",
        "layer_cam",
        "hires_cam",
        "eigen_cam",
        "score_cam",
        "ablation_cam",
    }
    with pytest.warns(
        DeprecationWarning, match=r"tfxai.METHODS is deprecated: use tfxai.CAM_METHODS"
    ) as caught:
        old = tfxai.METHODS
    assert old is tfxai.CAM_METHODS  # the same dict: registering in one registers in both
    assert caught[0].filename == __file__  # the warning points at the caller
    with pytest.warns(DeprecationWarning, match=r"tfxai.cam.METHODS is deprecated"):
        assert tfxai.cam.METHODS is tfxai.cam.CAM_METHODS
    for module in ("tfxai.methods", "tfxai.demo"):  # the package reads only the new name
        source = inspect.getsource(importlib.import_module(module))
        assert "cam.METHODS" not in source and "tfxai.METHODS" not in source, module
    with pytest.raises(AttributeError, match="no attribute 'METHOD'"):
        getattr(tfxai, "METHOD")  # noqa: B009


def test_blurred_is_the_baseline_spelling_and_blur_warns():
    images = np.random.default_rng(0).random((2, 12, 12, 3)).astype(np.float32)
    assert inspect.signature(tfxai.metrics.insertion).parameters["baseline"].default == "blurred"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = causal.baseline_images("blurred", images)
    np.testing.assert_array_equal(new, causal.blur(images))
    with pytest.warns(DeprecationWarning, match=r"^baseline: 'blur' is deprecated, use 'blurred'"):
        old = causal.baseline_images("blur", images)
    np.testing.assert_array_equal(old, new)
    with pytest.raises(
        ValueError, match=r"^baseline: expected a number, 'blurred' \(formerly 'blur'\)"
    ):
        causal.baseline_images("blury", images)


def test_the_old_baseline_gives_the_same_curves_and_warns_at_the_caller(images):
    model, batch = sequential_model(), images[:2]
    maps = np.random.default_rng(1).random(batch.shape[:3])
    new = tfxai.metrics.insertion(model, batch, maps, steps=3, return_curves=True)
    with pytest.warns(DeprecationWarning) as caught:
        old = tfxai.metrics.insertion(
            model, batch, maps, steps=3, baseline="blur", return_curves=True
        )
    assert [w.filename for w in caught if w.category is DeprecationWarning] == [__file__]
    np.testing.assert_array_equal(old.curves, new.curves)


def test_preprocessing_is_the_spelling_and_preprocess_warns():
    import keras

    from tfxai.featurevis import channel

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Conv2D(2, 3, name="conv")])
    options = dict(steps=2, progress=False, size=12)
    new = tfxai.render(model, channel("conv", 0), preprocessing="tf", **options)
    with pytest.warns(DeprecationWarning, match=r"preprocess= is deprecated: use preprocessing="):
        old = tfxai.render(model, channel("conv", 0), preprocess="tf", **options)
    np.testing.assert_array_equal(new.images, old.images)
    with pytest.raises(ValueError, match=r"^preprocessing: expected None, 'caffe'"):
        tfxai.render(model, channel("conv", 0), preprocessing="keras", **options)
    with pytest.raises(TypeError, match=r"^preprocess: the former spelling of preprocessing"):
        tfxai.render(model, channel("conv", 0), preprocessing="tf", preprocess="tf", **options)
    with pytest.warns(DeprecationWarning, match=r"preprocess= is deprecated"):
        tfxai.FeatureVisCallback(channel("conv", 0), preprocess="tf", log_dir=None)
