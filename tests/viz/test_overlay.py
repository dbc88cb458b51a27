import numpy as np
import pytest
from keras.applications import imagenet_utils

from tfxai.viz import apply_colormap, deprocess, overlay, to_uint8_image
from tfxai.viz.overlay import resize_heatmap


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, (8, 6, 3), dtype=np.uint8)


@pytest.fixture
def heatmap():
    return np.random.default_rng(1).random((8, 6))


def test_alpha_zero_returns_the_image_exactly(image, heatmap):
    out = overlay(image, heatmap, alpha=0.0)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("colormap", ["jet", "viridis"])
def test_alpha_one_returns_the_colormap(image, heatmap, colormap):
    out = overlay(image, heatmap, alpha=1.0, colormap=colormap)
    np.testing.assert_array_equal(out, apply_colormap(heatmap, colormap))


def test_hand_computed_pixels():
    image = np.array([[[11, 201, 31], [100, 100, 100]]], dtype=np.uint8)
    # gray(1.0) = 255; gray(0.6): matplotlib bins 0.6 into LUT entry
    # int(0.6 * 256) = 153 of 256, whose value is 153 / 255 -> 153.
    heatmap = np.array([[1.0, 0.6]])
    out = overlay(image, heatmap, alpha=0.5, colormap="gray")
    # 0.5 * 11 + 0.5 * 255 = 133; 0.5 * 201 + 127.5 = 228; 0.5 * 31 + 127.5 = 143.
    np.testing.assert_array_equal(out[0, 0], [133, 228, 143])
    # 0.5 * 100 + 0.5 * 153 = 126.5 -> 126 (round half to even).
    np.testing.assert_array_equal(out[0, 1], [126, 126, 126])
    # 0.75 * 100 + 0.25 * 153 = 113.25 -> 113.
    out = overlay(image, heatmap, alpha=0.25, colormap="gray")
    np.testing.assert_array_equal(out[0, 1], [113, 113, 113])


def test_hand_computed_pixel_with_jet():
    image = np.full((1, 1, 3), 40, dtype=np.uint8)
    # jet(0.0) = (0, 0, 0.5) -> (0, 0, 127.5); 0.6 * 40 + 0.4 * c.
    out = overlay(image, np.zeros((1, 1)), alpha=0.4)
    np.testing.assert_array_equal(out[0, 0], [24, 24, 75])


def test_float_unit_image_is_converted(heatmap):
    image = np.random.default_rng(2).random((8, 6, 3))
    np.testing.assert_array_equal(overlay(image, heatmap, alpha=0.0), to_uint8_image(image))


def test_grayscale_image_becomes_rgb(heatmap):
    gray = np.random.default_rng(3).integers(0, 256, (8, 6), dtype=np.uint8)
    out = overlay(gray, heatmap, alpha=0.0)
    assert out.shape == (8, 6, 3)
    np.testing.assert_array_equal(out[..., 1], gray)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocessed_image(image, heatmap, mode):
    x = imagenet_utils.preprocess_input(
        image.astype("float32"), data_format="channels_last", mode=mode
    )
    out = overlay(x, heatmap, alpha=0.0, preprocessing=mode)
    np.testing.assert_array_equal(out, deprocess(x, mode))


def test_batch_matches_per_sample(image, heatmap):
    images = np.stack([image, image[::-1]])
    heatmaps = np.stack([heatmap, 1.0 - heatmap])
    out = overlay(images, heatmaps, alpha=0.3)
    assert out.shape == (2, 8, 6, 3)
    for i in range(2):
        np.testing.assert_array_equal(out[i], overlay(images[i], heatmaps[i], alpha=0.3))


def test_one_image_many_heatmaps_broadcasts(image, heatmap):
    heatmaps = np.stack([heatmap, np.zeros_like(heatmap), np.ones_like(heatmap)])
    out = overlay(image, heatmaps, alpha=0.5)
    assert out.shape == (3, 8, 6, 3)
    for i in range(3):
        np.testing.assert_array_equal(out[i], overlay(image, heatmaps[i], alpha=0.5))


def test_many_images_one_heatmap_broadcasts(image, heatmap):
    images = np.stack([image, 255 - image])
    out = overlay(images, heatmap, alpha=0.5)
    assert out.shape == (2, 8, 6, 3)
    np.testing.assert_array_equal(out[1], overlay(images[1], heatmap, alpha=0.5))


def test_batch_of_one_heatmap_gives_batch_output(image, heatmap):
    out = overlay(image, heatmap[np.newaxis], alpha=0.5)
    assert out.shape == (1, 8, 6, 3)
    np.testing.assert_array_equal(out[0], overlay(image, heatmap, alpha=0.5))


def test_resize_heatmap_is_bilinear():
    # Pixel-centre aligned: output centres fall at -0.25, 0.25, 0.75, 1.25 of the input.
    np.testing.assert_allclose(
        resize_heatmap(np.array([[0.0, 1.0]]), (1, 4)), [[0.0, 0.25, 0.75, 1.0]], atol=1e-6
    )
    out = resize_heatmap(np.random.default_rng(4).random((7, 7)), (224, 200))
    assert out.shape == (224, 200) and out.min() >= 0 and out.max() <= 1


def test_small_heatmap_is_resized_to_the_image(image):
    small = np.array([[0.0, 1.0], [1.0, 0.0]])
    out = overlay(image, small, alpha=1.0, colormap="viridis")
    assert out.shape == (8, 6, 3)
    np.testing.assert_array_equal(out, apply_colormap(resize_heatmap(small, (8, 6)), "viridis"))
    # A constant heatmap stays constant after resizing.
    out = overlay(image, np.full((3, 3), 0.5), alpha=1.0, colormap="gray")
    assert (out == apply_colormap(np.array([[0.5]]), "gray")[0, 0]).all()


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan"), "0.5", None])
def test_bad_alpha(image, heatmap, alpha):
    with pytest.raises(ValueError, match=r"alpha: expected a number in \[0, 1\]"):
        overlay(image, heatmap, alpha=alpha)


@pytest.mark.parametrize("bad", [1.2, -0.01, np.nan, np.inf])
def test_bad_heatmap_values(image, heatmap, bad):
    heatmap = heatmap.copy()
    heatmap[0, 0] = bad
    with pytest.raises(ValueError, match="heatmap"):
        overlay(image, heatmap)


@pytest.mark.parametrize("shape", [(6,), (1, 1, 8, 6)])
def test_bad_heatmap_rank(image, shape):
    with pytest.raises(ValueError, match=r"heatmap: expected shape \(H, W\) or \(B, H, W\)"):
        overlay(image, np.zeros(shape))


def test_heatmap_batch_mismatch(image, heatmap):
    images = np.stack([image] * 2)
    with pytest.raises(ValueError, match="heatmap: batch size 3 matches neither"):
        overlay(images, np.stack([heatmap] * 3))


@pytest.mark.parametrize("shape", [(8,), (8, 6, 4), (1, 1, 8, 6, 3)])
def test_bad_image_shape(heatmap, shape):
    with pytest.raises(ValueError, match="image: expected shape"):
        overlay(np.zeros(shape, dtype=np.uint8), heatmap)


def test_bad_preprocessing(image, heatmap):
    with pytest.raises(ValueError, match="preprocessing"):
        overlay(image, heatmap, preprocessing="vgg")


def test_bad_colormap(image, heatmap):
    with pytest.raises(ValueError, match="colormap"):
        overlay(image, heatmap, colormap="no-such-map")
