"""`render`: gradient ascent for every objective, every model kind, seeds, caching, errors."""

import importlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import assert_unchanged, snapshot
from tfxai.featurevis import objectives
from tfxai.featurevis import param as param_lib
from tfxai.featurevis import transforms as transforms_lib

render_lib = importlib.import_module("tfxai.featurevis.render")

LAYER_OF_KIND = {
    "sequential": "conv2",
    "functional": "conv2",
    "multi_output": "conv2",
    "mixed_precision": "conv2",
    "subclassed": "features/conv2",
    "nested": "resnet50/conv3_block4_out",
}


def render(model, objective, **options):
    options.setdefault("progress", False)
    return render_lib.render(model, objective, **options)


def test_every_model_kind_renders_without_changing_the_model(model_kind, request):
    model, options = model_kind
    kind = request.node.callspec.params["model_kind"]
    before = snapshot(model)
    objective = objectives.channel(LAYER_OF_KIND[kind], [0, 1])
    start = render(model, objective, size=32, steps=0, **options)
    result = render(model, objective, size=32, steps=24, **options)
    assert result.images.shape == (2, 32, 32, 3) and result.images.dtype == np.float32
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert np.all(result.values > start.values)
    assert_unchanged(before, model)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(11)
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
    outputs = keras.layers.Dense(4, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="tiny")


@pytest.mark.parametrize(
    "make",
    [
        lambda: objectives.channel("conv2", [0, 3, 5]),
        lambda: objectives.neuron("conv2", [1, 2, 7]),
        lambda: objectives.layer_energy("conv1"),
        lambda: objectives.direction("conv2", np.linspace(-1, 1, 8)),
        lambda: objectives.class_logit([0, 1, 3]),
        lambda: objectives.diversity("conv1"),
        lambda: -1.0 * objectives.total_variation(),
        lambda: -1.0 * objectives.l1(),
        lambda: -1.0 * objectives.blur(),
        lambda: objectives.channel("conv2", 2) - 0.1 * objectives.total_variation(),
    ],
    ids=[
        "channel",
        "neuron",
        "layer_energy",
        "direction",
        "class_logit",
        "diversity",
        "total_variation",
        "l1",
        "blur",
        "composed",
    ],
)
def test_gradient_ascent_raises_every_objective(tiny, make):
    objective = make()
    options = dict(size=24, batch=None if objective.batch else 3, seed=5)
    start = render(tiny, objective, steps=0, **options)
    end = render(tiny, objective, steps=40, **options)
    print(f"{objective.name}: {start.values.round(4)} -> {end.values.round(4)}")
    assert np.all(end.values - start.values > 0.05 * np.abs(start.values) + 1e-9)


def test_segmentation_class_per_class_and_region_on_the_bundled_unet():
    from tfxai import models

    unet = models.load("shapes-unet")
    before = snapshot(unet)
    box = (32, 32, 64, 64)
    for objective in (
        objectives.segmentation_class([1, 2, 3, 4, 5]),
        objectives.segmentation_class([1, 4], region=box),
    ):
        start = render(unet, objective, size=96, steps=0, transforms=None)
        end = render(unet, objective, size=96, steps=48, transforms=None)
        assert np.all(end.values > start.values + 1.0), (start.values, end.values)
    logits = unet.predict(end.images, verbose=0)
    inside = logits[:, 32:64, 32:64].argmax(-1)
    assert np.mean(inside[0] == 1) > 0.5 and np.mean(inside[1] == 4) > 0.5
    assert_unchanged(before, unet)


def test_model_output_targets_render_on_the_logits(tiny):
    import tfxai

    by_target = render(tiny, tfxai.class_score([0, 3]), size=24, steps=6, seed=2)
    by_objective = render(tiny, objectives.class_logit([0, 3]), size=24, steps=6, seed=2)
    np.testing.assert_allclose(by_target.values, by_objective.values, rtol=1e-5)
    with pytest.raises(ValueError, match="cannot combine"):
        _ = objectives.channel("conv2", 1) + tfxai.class_score(2)
    with pytest.raises(ValueError, match="class index 7"):
        render(tiny, tfxai.class_score(7), size=24, steps=1)


def test_same_seed_same_images_other_seed_other_images(tiny):
    objective = objectives.channel("conv2", [0, 1])
    first = render(tiny, objective, size=24, steps=10, seed=3)
    again = render(tiny, objective, size=24, steps=10, seed=3)
    other = render(tiny, objective, size=24, steps=10, seed=4)
    np.testing.assert_array_equal(first.images, again.images)
    assert np.abs(first.images - other.images).max() > 1e-3


def test_snapshots_settings_and_one_compiled_step_per_structure(tiny):
    render_lib.clear_cache()
    result = render(
        tiny, objectives.channel("conv2", [0, 1]), size=24, steps=12, thresholds=(4, 12)
    )
    assert sorted(result.snapshots) == [4, 12]
    np.testing.assert_allclose(result.snapshots[12], result.images, atol=1e-6)
    assert not np.allclose(result.snapshots[4], result.images)
    assert result.settings["param"] == "fft" and result.settings["steps"] == 12
    render(tiny, objectives.channel("conv2", [5, 6]), size=24, steps=2)
    assert len(render_lib._cache) == 1  # other channels: same graph, new parameters
    render(tiny, objectives.channel("conv2", [5, 6]), size=24, steps=2, param="pixel")
    assert len(render_lib._cache) == 2


def test_render_matches_a_hand_written_lucid_loop(tiny):
    """Seeded FFT image, standard transforms, Adam(0.05) up the channel means, step by step."""
    channels, seed, steps = [2, 5], 3, 12
    result = render(tiny, objectives.channel("conv2", channels), size=24, steps=steps, seed=seed)
    image = param_lib.image(24, 2, seed=seed)
    transform = transforms_lib.standard(output_size=(24, 24))
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    features = keras.Model(tiny.input, tiny.get_layer("conv2").output)

    def channel_means(images):
        maps = features(images)
        return tf.stack([tf.reduce_mean(maps[i, ..., c]) for i, c in enumerate(channels)])

    for step in range(1, steps + 1):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(
                channel_means(transform(image(), tf.constant([seed, step], tf.int64)))
            )
        optimizer.apply_gradients(zip(tape.gradient(loss, image.variables), image.variables))
    np.testing.assert_allclose(result.images, image().numpy(), atol=1e-4)
    np.testing.assert_allclose(result.values, channel_means(image()).numpy(), rtol=1e-4)


def cached_step(model):
    """The `_Step` that the last `render` of `model` used (the newest cache entry)."""
    owner, compiled = next(reversed(render_lib._cache.values()))
    assert owner() is model
    return compiled


def test_compiled_step_has_no_strided_slice_gradients(tiny):
    # Profiled: the strided-slice gradients of the FFT spectrum's real/imaginary halves and
    # of caffe's BGR flip cost more than the FFTs themselves (~5 ms of a ResNet50 step).
    render(tiny, objectives.channel("conv2", [0, 1]), size=24, steps=1, preprocess="caffe")
    graph = cached_step(tiny).step.graph
    types = [op.type for op in graph.get_operations()]
    assert "IRFFT2D" in types and "RFFT2D" in types  # the FFT image and its gradient
    assert "StridedSliceGrad" not in types, sorted(set(types))


def test_warm_render_builds_no_optimizer(tiny):
    objective = objectives.channel("conv2", [0, 1])
    render(tiny, objective, size=24, steps=1)
    created = []

    def record(next_creator, **kwargs):
        created.append(
            tuple(kwargs["initial_value"].shape)
            if hasattr(kwargs.get("initial_value"), "shape")
            else kwargs.get("name")
        )
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        render(tiny, objective, size=24, steps=3)
    # Only the fresh parameterization's spectrum (B, C, H, W // 2 + 1, 2): the cached
    # step's optimizer is reset, not rebuilt.
    assert created == [(2, 3, 24, 13, 2)], created


def test_user_parameterization_transforms_and_optimizer(tiny):
    image = param_lib.image(24, 2, param="pixel", seed=1)
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    result = render(
        tiny,
        objectives.channel("conv2", [0, 1]),
        param=image,
        transforms=[transforms_lib.jitter(2)],
        optimizer=optimizer,
        steps=5,
    )
    np.testing.assert_allclose(result.images, image().numpy(), atol=1e-6)
    assert int(optimizer.iterations.numpy()) == 0  # the caller's optimizer is not used
    assert result.settings["param"] == "pixel"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(objective=objectives.channel("nope", 0)), ValueError, "nope"),
        (dict(objective=objectives.channel("conv2", 8)), ValueError, "channels: index 8"),
        (dict(objective=objectives.channel("conv2", [0, 1]), batch=3), ValueError, "batch"),
        (dict(steps=-1), ValueError, "steps"),
        (dict(thresholds=(5,), steps=2), ValueError, "thresholds"),
        (dict(preprocess="vgg"), ValueError, "preprocess"),
        (dict(objective="conv2"), TypeError, "objective"),
        (dict(optimizer="adam"), TypeError, "optimizer"),
        (dict(param="wavelet"), ValueError, "param"),
        (dict(transforms="lucid"), ValueError, "transforms"),
        (dict(objective=objectives.segmentation_class(0)), ValueError, "segmentation_class"),
    ],
)
def test_bad_arguments_are_named(tiny, kwargs, error, match):
    options = dict(objective=objectives.channel("conv2", 0), size=24, steps=1)
    options.update(kwargs)
    with pytest.raises(error, match=match):
        render(tiny, options.pop("objective"), **options)
