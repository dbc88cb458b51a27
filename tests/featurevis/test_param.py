"""Image parameterizations: ranges, seeds, the 1/f spectrum, color decorrelation, checks."""

import numpy as np
import pytest
import tensorflow as tf

from tfxai.featurevis import param


def high_frequency_fraction(images):
    """Fraction of the spectral energy (mean removed) above half the Nyquist frequency."""
    x = images - images.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2
    height, width = x.shape[1:3]
    freqs = np.sqrt(np.fft.fftfreq(height)[:, None] ** 2 + np.fft.fftfreq(width)[None] ** 2)
    return power[:, freqs > 0.25].sum() / power.sum()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("kind", ["fft", "pixel"])
@pytest.mark.parametrize("decorrelate", [True, False])
def test_output_shape_dtype_and_range(kind, decorrelate):
    p = param.image((16, 12), batch=2, param=kind, decorrelate=decorrelate, sd=1.0)
    images = p()
    assert images.dtype == tf.float32
    assert tuple(images.shape) == p.shape == (2, 16, 12, 3)
    values = images.numpy()
    assert values.min() >= 0 and values.max() <= 1
    assert values.std() > 0.05  # sd=1 spreads the sigmoid over much of [0, 1]
    assert isinstance(p, param.FFT if kind == "fft" else param.Pixel)
    assert all(isinstance(v, tf.Variable) for v in p.variables) and len(p.variables) == 1


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_other_channel_counts_without_decorrelation(kind):
    images = param.image(8, batch=3, param=kind, decorrelate=False, channels=1)()
    assert tuple(images.shape) == (3, 8, 8, 1)


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_odd_sizes(kind):
    p = param.image((7, 9), param=kind, sd=0.5, seed=1)
    values = p().numpy()
    assert values.shape == (1, 7, 9, 3)
    assert np.all(np.isfinite(values)) and values.std() > 0.01


@pytest.mark.parametrize("size", [(7, 9), (8, 6), (5, 5)])
def test_fft_raw_image_is_the_scaled_inverse_rfft(size):
    """The FFT image, checked against numpy's irfft2 of the scaled spectrum."""
    height, width = size
    p = param.FFT(size, batch=2, decorrelate=False, sd=1.0, seed=3)
    spectrum = p.spectrum.numpy()
    assert spectrum.shape == (2, 3, height, width // 2 + 1, 2)
    complex_spectrum = (spectrum[..., 0] + 1j * spectrum[..., 1]) * param.fft_scale(height, width)
    expected = np.fft.irfft2(complex_spectrum, s=(height, width), axes=(-2, -1))
    expected = expected.transpose(0, 2, 3, 1) * param.FFT_OUTPUT_SCALE
    np.testing.assert_allclose(p.raw().numpy(), expected, rtol=1e-4, atol=1e-4)


def test_usable_inside_tf_function():
    p = param.image(8, batch=2, seed=4)
    compiled = tf.function(lambda: p())
    np.testing.assert_allclose(compiled().numpy(), p().numpy(), atol=1e-6)


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_same_seed_gives_identical_variables_and_images(kind):
    a = param.image(10, batch=2, param=kind, seed=7)
    b = param.image(10, batch=2, param=kind, seed=7)
    np.testing.assert_array_equal(a.variables[0].numpy(), b.variables[0].numpy())
    np.testing.assert_array_equal(a().numpy(), b().numpy())


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_different_seeds_give_different_images(kind):
    a = param.image(10, param=kind, seed=7)().numpy()
    b = param.image(10, param=kind, seed=8)().numpy()
    assert np.abs(a - b).max() > 1e-4


def test_sd_sets_the_spread_and_zero_gives_gray():
    pixel = param.Pixel(32, batch=2, sd=0.3, seed=0)
    assert pixel.pixels.numpy().std() == pytest.approx(0.3, rel=0.05)
    flat = param.image(8, sd=0.0)().numpy()
    np.testing.assert_array_equal(flat, np.full_like(flat, 0.5))


# --------------------------------------------------------------------------- spectrum


@pytest.mark.parametrize("decorrelate", [False, True])
def test_fft_images_have_less_high_frequency_energy_than_pixel_images(decorrelate):
    """Same init sd: the 1/f scaling moves energy to low frequencies; white noise does not."""
    fft = param.image(64, batch=4, param="fft", decorrelate=decorrelate, seed=0)().numpy()
    pixel = param.image(64, batch=4, param="pixel", decorrelate=decorrelate, seed=0)().numpy()
    fft_fraction = high_frequency_fraction(fft)
    pixel_fraction = high_frequency_fraction(pixel)
    # White noise: energy ~ area above 0.25 cycles/pixel = 1 - pi / 16 ~ 0.80.
    assert pixel_fraction == pytest.approx(1 - np.pi / 16, abs=0.03)
    assert fft_fraction < 0.3
    assert fft_fraction < 0.4 * pixel_fraction


def test_fft_with_flat_spectrum_is_white():
    """Control: decay_power=0 removes the 1/f scaling, so the FFT image is white noise."""
    flat = param.FFT(64, batch=4, decorrelate=False, decay_power=0.0)().numpy()
    assert high_frequency_fraction(flat) == pytest.approx(1 - np.pi / 16, abs=0.03)


def test_fft_scale_by_hand_on_4x4():
    # fftfreq(4) = [0, .25, -.5, -.25] (rows), rfftfreq(4) = [0, .25, .5] (columns);
    # scale = sqrt(16) / max(f, 1/4).
    r2, r5 = np.sqrt(2), np.sqrt(5)
    expected = np.array(
        [[16, 16, 8], [16, 8 * r2, 16 / r5], [8, 16 / r5, 4 * r2], [16, 8 * r2, 16 / r5]]
    )
    scale = param.fft_scale(4, 4)
    assert scale.dtype == np.float32 and scale.shape == (4, 3)
    np.testing.assert_allclose(scale, expected, rtol=1e-6)
    # decay_power=2 squares the clipped 1/f; decay_power=0 leaves only sqrt(H * W).
    np.testing.assert_allclose(param.fft_scale(4, 4, decay_power=2.0)[0], [64, 64, 16], rtol=1e-6)
    np.testing.assert_allclose(param.fft_scale(4, 4, decay_power=0.0), np.full((4, 3), 4.0))


def test_fft_scale_odd_and_rectangular_sizes():
    scale = param.fft_scale(3, 5)
    assert scale.shape == (3, 3)
    # f(0, 0) = 0 is clipped to 1 / max(3, 5) = 0.2; f(0, 2) = 2 / 5 = 0.4.
    assert scale[0, 0] == pytest.approx(np.sqrt(15) / 0.2)
    assert scale[0, 2] == pytest.approx(np.sqrt(15) / 0.4)
    assert scale[1, 0] == pytest.approx(np.sqrt(15) * 3)  # f = 1/3


# --------------------------------------------------------------------------- color


def test_color_matrix_normalized_by_its_largest_column_norm():
    raw = param.COLOR_CORRELATION_SVD_SQRT
    np.testing.assert_allclose(raw, [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    norms = np.linalg.norm(param.COLOR_CORRELATION_NORMALIZED, axis=0)
    assert norms.max() == pytest.approx(1.0, abs=1e-6)
    assert norms.argmax() == 0  # the luminance-like first column
    # The largest column is the first: sqrt(0.26^2 + 0.27^2 + 0.27^2).
    np.testing.assert_allclose(
        param.COLOR_CORRELATION_NORMALIZED, raw / np.sqrt(0.26**2 + 2 * 0.27**2), rtol=1e-6
    )


def test_to_rgb_without_decorrelation_is_sigmoid():
    x = np.random.default_rng(0).normal(0, 3, (2, 4, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(param.to_rgb(x, False).numpy(), sigmoid(x), rtol=1e-6)


def test_to_rgb_decorrelated_applies_the_matrix_to_channel_vectors():
    matrix = param.COLOR_CORRELATION_NORMALIZED
    # A unit vector along component k gives column k of the matrix.
    for k in range(3):
        x = np.zeros((1, 1, 1, 3), np.float32)
        x[..., k] = 1.0
        np.testing.assert_allclose(
            param.to_rgb(x, True).numpy()[0, 0, 0], sigmoid(matrix[:, k]), rtol=1e-6
        )
    x = np.random.default_rng(1).normal(0, 2, (2, 3, 4, 3)).astype(np.float32)
    expected = sigmoid(np.einsum("ij,bhwj->bhwi", matrix, x))
    np.testing.assert_allclose(param.to_rgb(x, True).numpy(), expected, rtol=1e-5)


def test_to_rgb_decorrelate_needs_three_channels():
    with pytest.raises(ValueError, match="3 channels"):
        param.to_rgb(np.zeros((1, 2, 2, 4), np.float32), True)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", ["fft", "pixel"])
def test_gradients_reach_the_variables(kind):
    p = param.image((9, 7), batch=2, param=kind, seed=2)
    weights = tf.constant(np.random.default_rng(0).normal(size=p.shape), tf.float32)
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(p() * weights)
    grads = tape.gradient(score, p.variables)
    assert len(grads) == 1 and grads[0] is not None
    assert grads[0].shape == p.variables[0].shape
    assert np.abs(grads[0].numpy()).max() > 1e-3


def sliced_fft_image(p):
    """The FFT image as first written: the spectrum's halves sliced apart, autodiff."""
    _, height, width, _ = p.shape
    spectrum = tf.complex(p.spectrum[..., 0] * p.scale, p.spectrum[..., 1] * p.scale)
    images = tf.signal.irfft2d(spectrum, fft_length=[height, width])
    return tf.transpose(images, (0, 2, 3, 1)) * param.FFT_OUTPUT_SCALE


@pytest.mark.parametrize("size, channels", [((7, 9), 1), ((6, 8), 3), ((64, 48), 3), ((5, 2), 2)])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf.function"])
def test_fft_image_and_gradient_are_tensorflows_autodiff_bit_for_bit(size, channels, compiled):
    p = param.FFT(size, batch=2, decorrelate=False, channels=channels, sd=1.0, seed=4)
    weights = tf.constant(np.random.default_rng(1).normal(size=p.shape), tf.float32)

    def gradient(image_fn):
        with tf.GradientTape() as tape:
            score = tf.reduce_sum(image_fn() * weights)
        return tape.gradient(score, p.spectrum)

    if compiled:  # Grappler rewrites graphs: the rounding must survive it too
        gradient = tf.function(gradient)
    np.testing.assert_array_equal(p.raw().numpy(), sliced_fft_image(p).numpy())
    written, autodiff = gradient(p.raw), gradient(lambda: sliced_fft_image(p))
    assert np.abs(autodiff.numpy()).max() > 1e-3
    np.testing.assert_array_equal(written.numpy(), autodiff.numpy())


def test_a_gradient_step_changes_the_image():
    p = param.image(8, seed=0)
    before = p().numpy()
    with tf.GradientTape() as tape:
        score = tf.reduce_mean(p()[..., 0])  # make the red channel brighter
    p.variables[0].assign_add(10.0 * tape.gradient(score, p.variables)[0])
    after = p().numpy()
    assert after[..., 0].mean() > before[..., 0].mean()


# --------------------------------------------------------------------------- arguments


def test_existing_parameterization_is_returned_as_is():
    p = param.Pixel(8)
    assert param.image(32, param=p) is p


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"size": 0}, ValueError, "size"),
        ({"size": (8,)}, ValueError, "size"),
        ({"size": (8, -1)}, ValueError, "size"),
        ({"size": "8"}, ValueError, "size"),
        ({"size": 8.0}, ValueError, "size"),
        ({"batch": 0}, ValueError, "batch"),
        ({"batch": 1.5}, TypeError, "batch"),
        ({"batch": True}, TypeError, "batch"),
        ({"param": "wavelet"}, ValueError, "param"),
        ({"param": 3}, TypeError, "param"),
        ({"sd": -0.1}, ValueError, "sd"),
        ({"sd": float("nan")}, ValueError, "sd"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.0}, ValueError, "seed"),
        ({"channels": 0}, ValueError, "channels"),
        ({"channels": 4}, ValueError, "decorrelate"),
        ({"decorrelate": "yes"}, TypeError, "decorrelate"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    kwargs = {"size": 8, **kwargs}
    with pytest.raises(error, match=rf"^{name}:"):
        param.image(**kwargs)


@pytest.mark.parametrize(
    "args, name", [((0, 4), "height"), ((4, 0), "width"), ((4, 4, -1.0), "decay_power")]
)
def test_fft_scale_bad_arguments(args, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name}:"):
        param.fft_scale(*args)


def test_fft_bad_decay_power():
    with pytest.raises(ValueError, match="^decay_power:"):
        param.FFT(8, decay_power=-1)
