"""Models with several inputs (image + table): `input=` names the explained image input.

The reference is the same model with the table baked in: a single-input model that feeds
the image and a constant table row to the very same layers. Every method must give the same
maps on `(images, table)` with `input="image"` as on that closed model with `images`.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
from tests.conftest import assert_unchanged, snapshot
from tfxai import methods, model_inputs

SIZE = 12


def image_table_model(structure="list"):
    """conv features gated per channel by the table, GAP, concat with the table, logits."""
    image = keras.Input((SIZE, SIZE, 3), name="image")
    table = keras.Input((4,), name="meta")
    features = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv")(image)
    gate = keras.layers.Dense(6, activation="sigmoid", name="gate")(table)
    gated = keras.layers.Multiply(name="gated")(
        [features, keras.layers.Reshape((1, 1, 6), name="gate_grid")(gate)]
    )
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(gated)
    joined = keras.layers.Concatenate(name="join")([pooled, table])
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(joined)
    logits = keras.layers.Dense(3, name="logits")(hidden)
    inputs = {"image": image, "meta": table} if structure == "dict" else [image, table]
    return keras.Model(inputs, logits, name=f"image_table_{structure}")


class FixedRow(keras.layers.Layer):
    """A constant table row, repeated for every image of the batch."""

    def __init__(self, row, **kwargs):
        super().__init__(**kwargs)
        self.row = np.asarray(row, np.float32)

    def call(self, images):
        rows = keras.ops.ones((keras.ops.shape(images)[0], 1)) * self.row[None]
        return rows

    def compute_output_shape(self, shape):
        return (shape[0], len(self.row))


def closed_model(model, row):
    """`model` with its table input fixed at `row`: a single-input model on the same layers."""
    image = keras.Input((SIZE, SIZE, 3), name="image_only")
    return keras.Model(image, model([image, FixedRow(row)(image)]), name="closed")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    return image_table_model()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (3, SIZE, SIZE, 3)).astype(np.float32)
    table = rng.normal(0, 1, (3, 4)).astype(np.float32)
    return images, table


def _options(name):
    cls = methods.METHODS[name]
    options = {"normalize": False}
    if name in ("smooth_grad", "var_grad", "square_grad"):
        options["samples"] = 4
    if name == "rise":
        options.update(masks=16, seed=1)
    if name == "occlusion":
        options.update(patch=4, stride=4)
    if name == "integrated_gradients":
        options["steps"] = 8
    return cls, options


@pytest.mark.parametrize("name", sorted(methods.METHODS))
def test_every_method_equals_the_model_with_the_table_baked_in(model, data, name):
    images, table = data
    row = table[1]
    shared = np.repeat(row[None], len(images), axis=0)
    cls, options = _options(name)
    layer = {"layer": model.get_layer("conv")} if cls.captures_layer else {}
    before = snapshot(model)
    got = methods.build(name, model, input="image", **layer, **options)(
        (images, shared), target=[0, 1, 2]
    )
    want = methods.build(name, closed_model(model, row), **layer, **options)(
        images, target=[0, 1, 2]
    )
    assert got.shape == (3, SIZE, SIZE)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert np.ptp(got) > 0
    assert_unchanged(before, model)


def test_each_image_is_explained_with_its_own_table_row(model, data):
    images, table = data
    got = tfxai.grad_cam(model, (images, table), target=2, layer="conv", normalize=False)
    for i in range(len(images)):
        want = tfxai.grad_cam(
            closed_model(model, table[i]),
            images[i : i + 1],
            target=2,
            layer="conv",
            normalize=False,
        )
        np.testing.assert_allclose(got[i], want[0], rtol=1e-4, atol=1e-6)
    # the rows matter: the same image with another row has another map
    swapped = tfxai.grad_cam(model, (images, table[::-1]), target=2, layer="conv", normalize=False)
    assert not np.allclose(swapped[0], got[0], atol=1e-4)


def test_hand_computed_grad_cam_of_the_image_input():
    """Grad-CAM by hand: conv activations A, gated by sigmoid(meta . g), GAP, then a
    linear head: d score / d A_k = w_k * gate_k / (h*w), map = relu(sum_k mean-grad_k A_k)."""
    image = keras.Input((4, 4, 1), name="image")
    table = keras.Input((1,), name="meta")
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    features = conv(image)
    gate = keras.layers.Dense(2, activation="sigmoid", use_bias=False, name="gate")(table)
    gated = keras.layers.Multiply()([features, keras.layers.Reshape((1, 1, 2))(gate)])
    pooled = keras.layers.GlobalAveragePooling2D()(gated)
    head = keras.layers.Dense(1, use_bias=False, name="head")
    model = keras.Model({"image": image, "meta": table}, head(pooled))
    conv.set_weights([np.array([1.0, -2.0]).reshape(1, 1, 1, 2)])
    model.get_layer("gate").set_weights([np.array([[1.0, -1.0]])])
    head.set_weights([np.array([[3.0], [0.5]])])
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1) / 16 - 0.25
    meta = np.array([[0.7]], np.float32)
    gates = 1 / (1 + np.exp(-np.array([0.7, -0.7])))
    activations = x[0, :, :, 0][..., None] * np.array([1.0, -2.0])  # (4, 4, 2)
    # a single logit is scored as two classes [-z, z]: class 1 is z itself
    weights = np.array([3.0, 0.5]) * gates / 16  # the gradient is the same at every position
    want = np.maximum((activations * weights).sum(-1), 0)
    got = tfxai.grad_cam(model, {"meta": meta, "image": x}, target=1, layer="conv", normalize=False)
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-7)
    saliency = tfxai.saliency(model, {"image": x, "meta": meta}, target=1, normalize=False)
    # d z / d x = sum_k conv_k * gate_k * head_k / 16 at every pixel (linear in x)
    slope = abs((np.array([1.0, -2.0]) * gates * np.array([3.0, 0.5])).sum() / 16)
    np.testing.assert_allclose(saliency[0], np.full((4, 4), slope), rtol=1e-5)


def test_a_dict_model_takes_a_dict_or_a_tuple_in_its_order(data):
    keras.utils.set_random_seed(4)
    model = image_table_model("dict")
    images, table = data
    by_name = tfxai.grad_cam(model, {"meta": table, "image": images}, layer="conv")
    in_order = tfxai.grad_cam(model, (images, table), layer="conv")
    np.testing.assert_array_equal(by_name, in_order)
    assert np.ptp(by_name) > 0


def test_the_image_input_is_inferred_named_or_numbered(model, data):
    images, table = data
    inferred = tfxai.GradCAM(model, layer="conv")
    assert inferred.engine.image_input == "image"
    for ref in ("image", 0, -2):
        assert tfxai.GradCAM(model, layer="conv", input=ref).engine.image_input == "image"
    np.testing.assert_array_equal(
        inferred((images, table)), tfxai.GradCAM(model, layer="conv", input=0)((images, table))
    )


def test_the_default_layer_of_a_multi_input_model_is_the_image_branch(model, data):
    images, table = data
    assert tfxai.GradCAM(model).engine.layer_path == "gated"
    assert np.ptp(tfxai.grad_cam(model, (images, table))) > 0


def two_image_model():
    left = keras.Input((SIZE, SIZE, 3), name="left")
    right = keras.Input((SIZE, SIZE, 3), name="right")
    a = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="conv_l")(left))
    b = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="conv_r")(right))
    return keras.Model([left, right], keras.layers.Dense(2)(keras.layers.Concatenate()([a, b])))


def test_two_image_inputs_need_input_and_each_gets_its_own_maps(data):
    images, _ = data
    model = two_image_model()
    with pytest.raises(ValueError, match=r"^input: .* 2 of them are an image batch .*input="):
        tfxai.GradCAM(model, layer="conv_l")
    other = images[::-1].copy()
    left = tfxai.saliency(model, (images, other), input="left", normalize=False)
    right = tfxai.saliency(model, (images, other), input="right", normalize=False)
    assert left.shape == right.shape == (3, SIZE, SIZE)
    assert not np.allclose(left, right)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, x, t: tfxai.grad_cam(m, x), r"^inputs: model .* has 2 inputs .*tuple/list"),
        (lambda m, x, t: tfxai.grad_cam(m, (x,)), r"^inputs: model .* takes 2 inputs .*of 1"),
        (
            lambda m, x, t: tfxai.grad_cam(m, {"image": x, "table": t}),
            r"^inputs: model .* takes the inputs \['image', 'meta'\]; got a dict with the keys",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x, t[:2])),
            r"^inputs: the input 'meta' must be an array of shape \(3, 4\)",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x, t[:, :3])),
            r"^inputs: the input 'meta' expects rows of shape \(4,\)",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x, t), input="photo"),
            r"^input: model .* has no input 'photo'; its inputs are 'image'",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x, t), input=2),
            r"^input: position 2 is out of range .* 2 inputs",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x, t), input=1.5),
            r"^input: expected the name or position of a model input, got float",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, (x[..., :2], t)),
            r"^inputs: model .* expects images of shape \(12, 12, 3\)",
        ),
        (
            lambda m, x, t: tfxai.grad_cam(m, tf.data.Dataset.from_tensors((x, t))),
            r"^inputs: model .* has 2 inputs; a tf.data.Dataset is not taken",
        ),
        (
            lambda m, x, t: tfxai.metrics.deletion(m, (x, t), np.ones((3, SIZE, SIZE))),
            r"^model: .* has 2 inputs; this function explains single-input image models",
        ),
        (
            lambda m, x, t: tfxai.render(m, tfxai.targets.class_score(0), steps=1),
            r"^model: .* has 2 inputs; this function explains single-input image models",
        ),
    ],
    ids=[
        "single_array",
        "too_few",
        "dict_keys",
        "row_count",
        "row_shape",
        "unknown_name",
        "bad_position",
        "bad_type",
        "image_shape",
        "dataset",
        "metric_refuses",
        "render_refuses",
    ],
)
def test_bad_multi_input_calls_name_the_argument(model, data, call, message):
    images, table = data
    before = snapshot(model)
    with pytest.raises((ValueError, TypeError), match=message):
        call(model, images, table)
    assert_unchanged(before, model)


def test_a_single_input_model_refuses_another_input(data):
    image = keras.Input((SIZE, SIZE, 3), name="pixels")
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(image)))
    assert tfxai.Saliency(model, input="pixels").engine.image_input is None
    with pytest.raises(ValueError, match=r"^input: model .* has a single input 'pixels'"):
        tfxai.Saliency(model, input="meta")


def test_a_sequential_built_by_build_declares_its_input():
    """`build()` gives a Sequential `inputs` but no `input` (Keras raises on it)."""
    model = keras.Sequential([keras.layers.Conv2D(2, 3)], name="built")
    model.build((None, SIZE, SIZE, 3))
    assert [tuple(t.shape) for _, t in model_inputs.declared_inputs(model)] == [
        (None, SIZE, SIZE, 3)
    ]
    assert tfxai.inputs.expected_image_shape(model) == (SIZE, SIZE, 3)


def test_the_other_inputs_travel_with_the_target():
    target = model_inputs.with_inputs(tfxai.targets.class_score(1), {"meta": np.ones((2, 4))})
    params = target.bind(2)
    assert params[0][0].tolist() == [1, 1] and params[1]["meta"].shape == (2, 4)
    with pytest.raises(ValueError, match=r"^inputs: the other model inputs give 2 rows"):
        target.bind(3)


def test_a_uint8_image_input_that_is_not_first_still_has_pixel_gradients():
    """The table comes first, the image is a uint8 input rescaled inside: without the
    float pixels fed past the cast (for that input, not the first), no gradient would
    reach the pixels and saliency would refuse."""
    table = keras.Input((3,), name="meta")
    image = keras.Input((8, 8, 3), dtype="uint8", name="image")
    x = keras.layers.Rescaling(1 / 255)(image)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, name="conv")(x))
    model = keras.Model(
        [table, image], keras.layers.Dense(2)(keras.layers.Concatenate()([x, table]))
    )
    pixels = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype(np.float32)
    rows = np.ones((2, 3), np.float32)
    assert tfxai.Saliency(model).engine.image_input == "image"
    maps = tfxai.saliency(model, (rows, pixels), normalize=False)
    assert maps.shape == (2, 8, 8) and np.ptp(maps) > 0


@pytest.mark.parametrize("baseline", ["per_image", "one", "number"])
def test_integrated_gradients_baselines_on_a_multi_input_model(model, data, baseline):
    """An array or number baseline is checked against the image input, not the tuple."""
    images, table = data
    value = {
        "per_image": np.zeros_like(images),
        "one": np.zeros(images.shape[1:], np.float32),
        "number": 0.0,
    }[baseline]
    options = {"steps": 8, "normalize": False, "baseline": value}
    got = tfxai.integrated_gradients(model, {"image": images, "meta": table}, **options)
    black = tfxai.integrated_gradients(model, (images, table), steps=8, normalize=False)
    np.testing.assert_allclose(got, black, rtol=1e-5, atol=1e-7)  # all three are black


class _ImageAndTable(keras.Model):
    """A subclassed two-input model: it declares no inputs."""

    def __init__(self):
        super().__init__(name="subclassed_pair")
        self.conv = keras.layers.Conv2D(2, 3)
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(2)

    def call(self, inputs):
        image, table = inputs
        return self.head(keras.ops.concatenate([self.pool(self.conv(image)), table], axis=-1))


def test_a_subclassed_model_with_several_inputs_is_named_as_such(data):
    images, table = data
    model = _ImageAndTable()
    model((images, table))
    with pytest.raises(ValueError, match=r"^input: model 'subclassed_pair' does not declare its"):
        tfxai.GradCAM(model, input="image")


def test_a_callback_given_several_inputs_says_callbacks_take_one(data):
    images, table = data
    for given in ([images, table], ([images, table], np.array([0, 1, 2]))):
        with pytest.raises(TypeError, match=r"^inputs: got a list of 2 arrays of different"):
            tfxai.callbacks.ExplanationCallback("grad_cam", given, log_dir=None)
