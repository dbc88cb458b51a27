"""Random transforms: hand-checked values, seeds, gradients, tf.function, bad arguments."""

import numpy as np
import pytest
import tensorflow as tf

from tfxai.featurevis import transforms as T


def random_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(size=shape).astype(np.float32)


def crop_offset(out, image, d):
    """The unique (dy, dx) in [0, d]^2 with out == image[dy:, dx:] cropped, or None."""
    h, w = out.shape[:2]
    found = [
        (dy, dx)
        for dy in range(d + 1)
        for dx in range(d + 1)
        if np.array_equal(out, image[dy : dy + h, dx : dx + w])
    ]
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------- pad


def test_pad_constant_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)[None, :, :, None]
    out = T.pad(1)(x, [0, 0]).numpy()[0, :, :, 0]
    g = 0.5
    np.testing.assert_array_equal(out, [[g, g, g, g], [g, 1, 2, g], [g, 3, 4, g], [g, g, g, g]])
    out = T.pad(2, value=-1.0)(x, [0, 0]).numpy()
    assert out.shape == (1, 6, 6, 1)
    assert out[0, 0, 0, 0] == -1 and out[0, 2, 3, 0] == 2


def test_pad_reflect_by_hand():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    out = T.pad(1, mode="reflect")(x, [0, 0]).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(
        out, [[4, 3, 4, 5, 4], [1, 0, 1, 2, 1], [4, 3, 4, 5, 4], [7, 6, 7, 8, 7], [4, 3, 4, 5, 4]]
    )


def test_pad_zero_is_identity():
    x = random_images((2, 5, 4, 3))
    np.testing.assert_array_equal(T.pad(0)(x, [0, 0]).numpy(), x)


# --------------------------------------------------------------------------- jitter


def test_jitter_gives_an_exact_crop_per_element_with_its_own_offset():
    d = 3
    x = random_images((8, 10, 11, 2))
    offsets = set()
    per_batch_distinct = False
    for step in range(30):
        out = T.jitter(d)(x, [1, step]).numpy()
        assert out.shape == (8, 10 - d, 11 - d, 2)
        found = [crop_offset(out[b], x[b], d) for b in range(len(x))]
        assert None not in found, f"step {step}: an element is not an exact crop"
        offsets.update(found)
        per_batch_distinct |= len(set(found)) > 1
    assert per_batch_distinct  # images of one batch get their own offsets
    # Offsets cover the inclusive range [0, d] on both axes.
    assert {dy for dy, _ in offsets} == set(range(d + 1))
    assert {dx for _, dx in offsets} == set(range(d + 1))


def test_jitter_zero_is_identity():
    x = random_images((2, 5, 5, 3))
    np.testing.assert_array_equal(T.jitter(0)(x, [3, 4]).numpy(), x)


def test_jitter_gradient_is_the_crop_mask():
    x = tf.constant(random_images((3, 9, 9, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = T.jitter(2)(x, [0, 5])
        score = tf.reduce_sum(out)
    grad = tape.gradient(score, x).numpy()
    for b in range(3):
        dy, dx = crop_offset(out.numpy()[b], x.numpy()[b], 2)
        mask = np.zeros((9, 9, 1), np.float32)
        mask[dy : dy + 7, dx : dx + 7] = 1
        np.testing.assert_array_equal(grad[b], mask)


# --------------------------------------------------------------------------- scale


def test_scale_one_is_identity():
    x = random_images((2, 9, 7, 3))
    np.testing.assert_allclose(T.random_scale([1.0])(x, [0, 0]).numpy(), x, atol=1e-6)


def test_scale_sizes_and_choice():
    x = random_images((2, 10, 8, 3))
    assert T.random_scale([0.5])(x, [0, 0]).shape == (2, 5, 4, 3)
    assert T.random_scale([1.25])(x, [0, 0]).shape == (2, 12, 10, 3)  # round(12.5)=12
    sizes = {T.random_scale([0.5, 2.0])(x, [0, s]).shape[1] for s in range(20)}
    assert sizes == {5, 20}


def test_scale_by_two_by_hand():
    """Bilinear, half-pixel centers: upsampling [a, b] by 2 gives [a, .75a+.25b, ...]."""
    x = np.array([[0.0, 4.0]], np.float32)[None, :, :, None]
    out = T.random_scale([2.0])(x, [0, 0]).numpy()[0, :, :, 0]
    np.testing.assert_allclose(out, [[0, 1, 3, 4], [0, 1, 3, 4]], atol=1e-6)


# --------------------------------------------------------------------------- rotate


@pytest.mark.parametrize("size", [8, 9])
def test_rotate_zero_is_identity(size):
    x = random_images((2, size, size, 3))
    np.testing.assert_allclose(T.random_rotate([0])(x, [0, 0]).numpy(), x, atol=1e-5)


@pytest.mark.parametrize("size", [8, 9])
def test_rotate_90_is_counter_clockwise_rot90(size):
    """Convention: positive angles turn the image counter-clockwise, like np.rot90."""
    x = random_images((2, size, size, 3))
    out = T.random_rotate([90])(x, [0, 0]).numpy()
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)
    out = T.random_rotate([-90])(x, [0, 0]).numpy()
    np.testing.assert_allclose(out, np.rot90(x, -1, axes=(1, 2)), atol=1e-5)
    out = T.random_rotate([180])(x, [0, 0]).numpy()
    np.testing.assert_allclose(out, x[:, ::-1, ::-1], atol=1e-5)


def test_rotate_fills_uncovered_corners():
    x = random_images((1, 9, 9, 2))
    out = T.random_rotate([45], fill_value=0.25)(x, [0, 0]).numpy()
    for y, x_ in [(0, 0), (0, 8), (8, 0), (8, 8)]:
        np.testing.assert_allclose(out[0, y, x_], 0.25, atol=1e-6)
    np.testing.assert_allclose(out[0, 4, 4], x[0, 4, 4], atol=1e-6)  # the center stays


def test_rotate_draws_one_angle_per_element():
    x = random_images((16, 6, 6, 1))
    out = T.random_rotate([0, 90])(x, [2, 3]).numpy()
    turned = np.rot90(x, 1, axes=(1, 2))
    same = [np.allclose(out[b], x[b], atol=1e-5) for b in range(16)]
    rotated = [np.allclose(out[b], turned[b], atol=1e-5) for b in range(16)]
    assert all(s or r for s, r in zip(same, rotated))
    assert any(same) and any(rotated)


def test_rotate_gradient_is_the_exact_adjoint():
    """rotate(x) = L x + c, so <L x, g> must equal <x, dL/dx^T g> from the tape."""
    rotate = T.random_rotate([-10, 7, 23])
    x = tf.constant(random_images((3, 11, 9, 2)))
    g = tf.constant(random_images((3, 11, 9, 2), seed=1) - 0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum(rotate(x, [4, 4]) * g)
    grad = tape.gradient(score, x)
    linear = rotate(x, [4, 4]) - rotate(tf.zeros_like(x), [4, 4])
    np.testing.assert_allclose(
        tf.reduce_sum(linear * g).numpy(), tf.reduce_sum(x * grad).numpy(), rtol=1e-4
    )


# --------------------------------------------------------------------------- compose, seeds

RANDOM = {
    "jitter": T.jitter(4),
    "scale": T.random_scale([0.8, 0.9, 1.1, 1.2]),
    "rotate": T.random_rotate(range(-10, 11)),
    "standard": T.STANDARD,
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_same_seed_same_output_different_seed_different(name):
    t = RANDOM[name]
    x = random_images((4, 24, 24, 3))
    first = t(x, [5, 7]).numpy()
    np.testing.assert_array_equal(t(x, [5, 7]).numpy(), first)
    np.testing.assert_array_equal(t(x, tf.constant([5, 7], tf.int64)).numpy(), first)
    others = [t(x, [5, step]).numpy() for step in range(8, 12)]
    assert any(o.shape != first.shape or not np.array_equal(o, first) for o in others)


def test_compose_gives_each_child_its_own_seed():
    """Two rotations by 0 or 90: with a shared seed they could only add up to 0 or 180."""
    twice = T.compose(T.random_rotate([0, 90]), T.random_rotate([0, 90]))
    x = random_images((32, 6, 6, 1))
    out = twice(x, [0, 1]).numpy()
    turned = np.rot90(x, 1, axes=(1, 2))
    assert any(np.allclose(out[b], turned[b], atol=1e-5) for b in range(32))


def test_compose_applies_in_order():
    x = random_images((2, 6, 6, 1))
    out = T.compose(T.pad(2, value=9.0), T.pad(1, value=-9.0))(x, [0, 0]).numpy()
    assert out.shape == (2, 12, 12, 1)
    assert out[0, 0, 0, 0] == -9 and out[0, 1, 1, 0] == 9


def test_standard_is_lucids_recipe():
    np.testing.assert_allclose(T.STANDARD_SCALES, np.arange(0.90, 1.1001, 0.02))
    assert tuple(range(-10, 11)) == T.STANDARD_ANGLES
    assert repr(T.STANDARD) == repr(T.standard()) == repr(T.random_affine())
    assert (
        "pad_width=12, jitter_before=8, scales=11 values, angles=21 values, "
        "jitter_after=4, fill_value=0.5" in repr(T.STANDARD)
    )
    text = repr(T.standard(fused=False))
    assert text.startswith("compose(pad(12, value=0.5), jitter(8), random_scale([0.9,")
    assert "random_rotate([-10.0," in text and text.endswith("jitter(4))")
    x = random_images((2, 128, 128, 3))
    for step in range(3):
        assert T.STANDARD(x, [0, step]).shape == (2, 140, 140, 3)  # 128 + 24 - 8 - 4
        out = T.standard(fused=False)(x, [0, step])
        # 128 + 24 - 8 = 144, scaled by 0.9..1.1 (129..158), then 4 cropped.
        assert out.shape[0] == 2 and out.shape[3] == 3
        assert 125 <= out.shape[1] <= 154 and out.shape[1] == out.shape[2]


def test_random_affine_without_draws_is_the_padding():
    x = random_images((3, 9, 9, 2))
    out = T.random_affine(2, 0, [1.0], [0], 0, 0.5)(x, [0, 1]).numpy()
    np.testing.assert_array_equal(out, T.pad(2, 0.5)(x, [0, 1]).numpy())


def test_random_affine_rotates_like_random_rotate_and_zooms_like_resize():
    x = random_images((3, 8, 8, 2))
    out = T.random_affine(0, 0, [1.0], [90], 0)(x, [0, 1]).numpy()
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)
    out = T.random_affine(12, 0, [1.0], [7], 0)(x, [0, 1]).numpy()
    chain = T.compose(T.pad(12), T.random_rotate([7]))(x, [0, 1]).numpy()
    np.testing.assert_allclose(out, chain, atol=1e-5)
    out = T.random_affine(0, 0, [2.0], [0], 0)(x, [0, 1]).numpy()
    zoomed = tf.image.resize(x, (16, 16)).numpy()[:, 4:12, 4:12]  # centre of a 2x resize
    np.testing.assert_allclose(out, zoomed, atol=1e-5)


def test_random_affine_jitter_is_an_exact_crop_per_image():
    x = random_images((6, 9, 9, 2))
    padded = T.pad(4, 0.5)(x, [0, 0]).numpy()
    seen = set()
    for step in range(6):
        out = T.random_affine(4, 4, [1.0], [0], 0)(x, [0, step]).numpy()
        assert out.shape == (6, 13, 13, 2)
        found = [crop_offset(out[b], padded[b], 4) for b in range(6)]
        assert None not in found
        seen.update(found)
    assert len(seen) > 6


def test_random_affine_output_size_resamples_like_a_resize_of_its_output():
    x = random_images((4, 12, 12, 3))
    shifts = T.random_affine(3, 4, [1.0], [0], 2)
    direct = T.random_affine(3, 4, [1.0], [0], 2, output_size=(21, 17))(x, [5, 6])
    resized = tf.image.resize(shifts(x, [5, 6]), (21, 17))
    assert direct.shape == (4, 21, 17, 3)
    # inside; at the border a resize clamps to its input's edge, the affine reads on
    np.testing.assert_allclose(
        direct.numpy()[:, 1:-1, 1:-1], resized.numpy()[:, 1:-1, 1:-1], atol=1e-5
    )
    assert T.standard(output_size=224)(x, [0, 0]).shape == (4, 224, 224, 3)
    with pytest.raises(ValueError, match="output_size"):
        T.standard(fused=False, output_size=224)


# --------------------------------------------------------------------------- gradients

ALL = {
    "pad": T.pad(3),
    "pad_reflect": T.pad(3, mode="reflect"),
    "jitter": T.jitter(3),
    "scale": T.random_scale([0.9, 1.1]),
    "rotate": T.random_rotate([-10, 10]),
    "standard": T.STANDARD,
    "standard_chain": T.standard(fused=False),
    "crop_or_pad_to": lambda images, seed: T.crop_or_pad_to(images, (9, 15)),
}


@pytest.mark.parametrize("name", list(ALL))
def test_gradients_flow_to_the_images(name):
    x = tf.constant(random_images((2, 12, 12, 3)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = ALL[name](x, [1, 2])
        weights = tf.random.stateless_normal(tf.shape(out), [0, 0])
        score = tf.reduce_sum(out * weights)
    grad = tape.gradient(score, x)
    assert grad is not None
    assert np.abs(grad.numpy()).max() > 1e-3
    assert out.shape[0] == 2 and out.shape[3] == 3


# --------------------------------------------------------------------------- tf.function


def test_dynamic_batch_under_tf_function_without_retracing():
    @tf.function(
        input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.float32), tf.TensorSpec([2], tf.int64)]
    )
    def apply(images, seed):
        return T.STANDARD(images, seed)

    for batch in (2, 3, 5):
        x = random_images((batch, 32, 32, 3), seed=batch)
        seed = tf.constant([9, batch], tf.int64)
        out = apply(x, seed)
        assert out.shape[0] == batch
        np.testing.assert_allclose(out.numpy(), T.STANDARD(x, seed).numpy(), atol=1e-5)
    assert apply.experimental_get_tracing_count() == 1


def test_fully_dynamic_shapes_under_tf_function():
    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.float32),
            tf.TensorSpec([2], tf.int32),
        ]
    )
    def apply(images, seed):
        return T.crop_or_pad_to(T.STANDARD(images, seed), 20)

    assert apply(random_images((2, 40, 30, 3)), [0, 1]).shape == (2, 20, 20, 3)
    assert apply(random_images((1, 16, 16, 3)), [0, 2]).shape == (1, 20, 20, 3)
    assert apply.experimental_get_tracing_count() == 1


# --------------------------------------------------------------------------- crop_or_pad_to


def test_crop_or_pad_to_by_hand():
    x = random_images((2, 9, 8, 1))
    np.testing.assert_array_equal(T.crop_or_pad_to(x, 4).numpy(), x[:, 2:6, 2:6])
    small = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)[None, :, :, None]
    out = T.crop_or_pad_to(small, (3, 5), value=0.0).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, [[0, 1, 2, 0, 0], [0, 3, 4, 0, 0], [0, 0, 0, 0, 0]])
    mixed = T.crop_or_pad_to(x, (5, 10)).numpy()  # crop rows, pad columns
    np.testing.assert_array_equal(mixed[:, :, 1:9], x[:, 2:7])
    assert np.all(mixed[:, :, [0, 9]] == 0.5)


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: T.pad(-1), "width"),
        (lambda: T.pad(1.5), "width"),
        (lambda: T.pad(2, value=float("nan")), "value"),
        (lambda: T.pad(2, mode="wrap"), "mode"),
        (lambda: T.jitter(-1), "d"),
        (lambda: T.jitter("4"), "d"),
        (lambda: T.random_scale([]), "scales"),
        (lambda: T.random_scale([1.0, 0.0]), "scales"),
        (lambda: T.random_scale(1.1), "scales"),
        (lambda: T.random_scale("1"), "scales"),
        (lambda: T.random_rotate([]), "angles"),
        (lambda: T.random_rotate([float("inf")]), "angles"),
        (lambda: T.random_rotate([5], fill_value=None), "fill_value"),
        (lambda: T.compose(), "transforms"),
        (lambda: T.crop_or_pad_to(np.zeros((1, 4, 4, 3)), 0), "size"),
        (lambda: T.crop_or_pad_to(np.zeros((1, 4, 4, 3)), (4,)), "size"),
    ],
)
def test_bad_factory_arguments_name_the_argument(build, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        build()


@pytest.mark.parametrize(
    "images, seed, name",
    [
        (np.zeros((4, 4, 3), np.float32), [0, 0], "images"),
        (np.zeros((1, 4, 4, 3), np.float32), [0, 0, 0], "seed"),
        (np.zeros((1, 4, 4, 3), np.float32), [0.5, 1.0], "seed"),
        (np.zeros((1, 4, 4, 3), np.float32), 3, "seed"),
    ],
)
def test_bad_call_arguments_name_the_argument(images, seed, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        T.jitter(1)(images, seed)


def test_compose_rejects_non_callables():
    with pytest.raises(TypeError, match="^transforms:.*int at position 1"):
        T.compose(T.pad(1), 3)


def test_images_too_small():
    with pytest.raises(ValueError, match="^d:"):
        T.jitter(4)(np.zeros((1, 4, 6, 3), np.float32), [0, 0])
    with pytest.raises(ValueError, match="^width:"):
        T.pad(3, mode="reflect")(np.zeros((1, 3, 6, 3), np.float32), [0, 0])
