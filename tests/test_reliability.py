"""What real models and real pipelines broke: infinite datasets, NaN models, shared layers,
occlusion gaps, trace-time errors buried in autograph dumps, threads, unbounded graphs."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import SIZE, get_model

ALL_METHODS = {**tfxai.METHODS, **tfxai.ATTRIBUTION_METHODS}
FAST = {
    "score_cam": {"top_n": 2},
    "ablation_cam": {"top_n": 2},
    "rise": {"masks": 8},
    "smooth_grad": {"samples": 2},
    "var_grad": {"samples": 2},
    "square_grad": {"samples": 2},
    "integrated_gradients": {"steps": 4},
    "occlusion": {"patch": 16},
}


def _images(n=2, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, SIZE, SIZE, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, ds: tfxai.grad_cam(m, ds),
        lambda m, ds: tfxai.saliency(m, ds),
        lambda m, ds: tfxai.metrics.deletion(m, ds, np.zeros((2, SIZE, SIZE)), steps=2),
    ],
)
def test_an_infinite_dataset_is_refused_at_once(call):
    dataset = tf.data.Dataset.from_tensor_slices(_images(4)).batch(2).repeat()
    with pytest.raises(ValueError, match=r"inputs: the dataset is infinite.*\.take\(n\)"):
        call(get_model("sequential"), dataset)


@pytest.mark.parametrize(
    "dataset, message",
    [
        (tf.data.Dataset.from_tensor_slices(_images(2)).batch(2).take(0), "the dataset is empty"),
        (tf.data.Dataset.from_tensor_slices(_images(2)), r"single images .*dataset.batch\(32\)"),
        (tf.data.Dataset.from_tensor_slices({"x": _images(2)}).batch(2), "got elements of type"),
    ],
)
def test_empty_unbatched_and_dict_datasets(dataset, message):
    with pytest.raises(ValueError, match="inputs: .*" + message):
        tfxai.grad_cam(get_model("sequential"), dataset)


def _nan_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(4, 3, padding="same", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    kernel, bias = model.get_layer("logits").get_weights()
    kernel[0, :] = np.nan
    model.get_layer("logits").set_weights([kernel, bias])
    return model


@pytest.mark.parametrize("method", sorted(ALL_METHODS))
def test_a_model_with_nan_outputs_is_an_error_not_a_blank_map(method):
    model = _nan_model()
    options = dict(FAST.get(method, {}))
    if method in tfxai.METHODS or method == "guided_grad_cam":
        options["layer"] = "conv"
    if method == "eigen_cam":  # needs no scores or gradients: its map is still finite
        assert np.isfinite(tfxai.eigen_cam(model, _images(), layer="conv")).all()
        return
    with pytest.raises(ValueError, match=r"^model: the scores or gradients of model "):
        getattr(tfxai, method)(model, _images(), target=1, **options)


def test_occlusion_refuses_a_stride_that_leaves_gaps():
    with pytest.raises(ValueError, match=r"stride: \(5, 5\) is larger than the patch \(2, 2\)"):
        tfxai.occlusion(get_model("sequential"), _images(), patch=2, stride=5)
    maps = tfxai.occlusion(get_model("sequential"), _images(), patch=8, stride=8)
    assert np.isfinite(maps).all()


def test_a_layer_called_twice_is_named():
    inputs = keras.Input((SIZE, SIZE, 3))
    shared = keras.layers.Conv2D(4, 3, padding="same", name="shared")
    both = keras.layers.Concatenate()([shared(inputs), shared(1.0 - inputs)])
    pooled = keras.layers.GlobalAveragePooling2D()(both)
    model = keras.Model(inputs, keras.layers.Dense(2)(pooled))
    with pytest.raises(ValueError, match=r"^layer: 'shared' is called 2 times in one forward pass"):
        tfxai.grad_cam(model, _images(), layer="shared")


def test_mask_score_checks_come_before_the_trace():
    with pytest.raises(ValueError, match=r"mask: mask 1 has no pixel"):
        mask = np.ones((2, SIZE, SIZE))
        mask[1] = 0
        tfxai.mask_score(1, mask)
    seg = keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 3, padding="same", name="conv")]
    )
    with pytest.raises(ValueError) as info:
        tfxai.grad_cam(seg, _images(), tfxai.mask_score(1, np.ones((8, 8))), layer="conv")
    assert str(info.value).startswith("mask: expected a mask of the output map size (32, 32)")


@pytest.mark.parametrize(
    "kind, call, first_line",
    [
        ("subclassed", lambda m, x: tfxai.grad_cam(m, x, layer="head"), "layer: 'head' has an"),
        ("subclassed", lambda m, x: tfxai.grad_cam(m, x, target=lambda y: y), "target: "),
        ("subclassed", lambda m, x: tfxai.grad_cam(m, x, output=1), "output: model 'subclassed'"),
    ],
)
def test_errors_raised_while_tracing_are_one_clear_line(kind, call, first_line):
    with pytest.raises((ValueError, TypeError)) as info:
        call(get_model(kind), _images())
    message = str(info.value)
    assert message.startswith(first_line) and "in user code" not in message


@pytest.mark.parametrize("fresh", [False, True])
def test_four_threads_explain_one_model_at_once(fresh):
    model = get_model("functional")
    images = _images(8, seed=3)
    serial = tfxai.grad_cam(model, images, layer="conv2")
    results, errors = {}, []
    tfxai.clear_cache()

    def work(index):
        try:
            part = images[2 * index : 2 * index + 2]
            if fresh:  # a new explainer per thread: each traces through the shared layer
                results[index] = tfxai.GradCAM(model, "conv2")(part)
            else:  # the shared, cached explainer
                results[index] = tfxai.grad_cam(model, part, layer="conv2")
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    combined = np.concatenate([results[i] for i in range(4)])
    np.testing.assert_allclose(combined, serial, atol=1e-5)
    print(
        f"4 threads ({'fresh' if fresh else 'shared'} explainers): max difference from "
        f"serial {np.abs(combined - serial).max():.2e}"
    )
    assert not any("call" in vars(layer) for _, layer in tfxai.layer_paths(model))


def test_compiled_graphs_per_engine_are_bounded():
    model = get_model("sequential")
    explainer = tfxai.GradCAM(model, "conv2")
    for i in range(tfxai.engine.COMPILED_PER_ENGINE + 8):
        explainer(_images(1), target=lambda y, i=i: y[:, i % 5])
    assert len(explainer.engine._compiled) == tfxai.engine.COMPILED_PER_ENGINE


def test_the_default_layer_is_never_a_1x1_map():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="features")(inputs)
    x = keras.layers.GlobalAveragePooling2D(keepdims=True)(x)  # (1, 1, 8), as MobileNet
    x = keras.layers.Conv2D(4, 1, name="head_conv")(x)  # a 1x1 "classifier"
    model = keras.Model(inputs, keras.layers.Flatten()(x))
    assert tfxai.resolve_layer(model).name == "features"
    maps = tfxai.grad_cam(model, _images(), target=1)
    assert np.ptp(maps, axis=(1, 2)).min() > 0  # a real map, not the constant of head_conv
    tiny = keras.Sequential(
        [keras.Input((1, 1, 3)), keras.layers.Conv2D(2, 1, name="c"), keras.layers.Flatten()]
    )
    with pytest.warns(UserWarning, match="every 4-D layer of model .* is 1x1"):
        assert tfxai.resolve_layer(tiny).name == "c"


def test_clear_cache_lets_a_deleted_model_go():
    import gc
    import weakref

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(4, 3, padding="same", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    images = _images()
    maps = tfxai.grad_cam(model, images, layer="conv")
    tfxai.metrics.deletion(model, images, maps, steps=2)
    tfxai.render(model, tfxai.featurevis.channel("conv", 0), size=SIZE, steps=1, progress=False)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is not None  # the three caches hold it
    tfxai.clear_cache()
    gc.collect()
    assert ref() is None


def _rescaling_model(dtype):
    """Rescaling (uint8 -> [0, 1] inside) then a small CNN; the same weights for every dtype."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3), dtype=dtype)
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


GRADIENT_METHODS = [
    "saliency",
    "gradient_x_input",
    "smooth_grad",
    "var_grad",
    "integrated_gradients",
    "guided_backprop",
    "guided_grad_cam",
]


@pytest.mark.parametrize("method", GRADIENT_METHODS + ["grad_cam", "score_cam", "occlusion"])
def test_a_uint8_input_model_is_explained_through_its_cast(method):
    """The float pixels are fed past the model's cast to uint8: the maps of a uint8-input
    model equal those of the same network on a float32 input (they were all zeros)."""
    as_uint8, as_float = _rescaling_model("uint8"), _rescaling_model("float32")
    images = np.random.default_rng(0).integers(0, 255, (2, SIZE, SIZE, 3)).astype(np.uint8)
    options = dict(FAST.get(method, {}), target=[0, 2])
    options.update(seed=0) if method in ("smooth_grad", "var_grad") else None
    maps = getattr(tfxai, method)(as_uint8, images, **options)
    expected = getattr(tfxai, method)(as_float, images.astype(np.float32), **options)
    np.testing.assert_allclose(maps, expected, atol=1e-4)
    assert np.ptp(maps, axis=(1, 2)).max() > 0.5  # not blank (guided maps may be per image)


def test_a_model_that_casts_its_own_input_still_raises_instead_of_blank_maps():
    """A subclassed model casting to uint8 in `call` has no layer receiving the pixels."""

    class Quantized(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu")
            self.pool = keras.layers.GlobalAveragePooling2D()
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            x = tf.cast(tf.cast(x * 255.0, tf.uint8), tf.float32) / 255.0
            return self.dense(self.pool(self.conv(x)))

    model = Quantized()
    model(np.zeros((1, SIZE, SIZE, 3), np.float32))
    with pytest.raises(ValueError, match=r"^inputs: no gradient reaches the input pixels"):
        tfxai.saliency(model, _images())


def test_render_climbs_on_a_uint8_input_model():
    """`render` on a uint8-input model optimizes (it failed inside Keras: no gradients)
    and matches the same network on a float32 input."""
    from tfxai.featurevis import channel

    as_uint8, as_float = _rescaling_model("uint8"), _rescaling_model("float32")
    options = dict(size=SIZE, preprocess=lambda x: x * 255.0, progress=False, seed=1)
    objective = channel("conv2", [0, 1, 2, 3])
    start = tfxai.render(as_uint8, objective, steps=0, **options)
    result = tfxai.render(as_uint8, objective, steps=48, **options)
    expected = tfxai.render(as_float, objective, steps=48, **options)
    alive = start.values > 0  # a channel dead everywhere has no gradient to climb
    assert alive.sum() >= 2 and np.all(result.values[alive] > 1.2 * start.values[alive]), (
        start.values,
        result.values,
    )
    np.testing.assert_allclose(result.values, expected.values, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result.images, expected.images, atol=1e-4)
