import re

import numpy as np
import pytest
from keras.applications import imagenet_utils

from tfxai.viz import deprocess, to_uint8_image

MODES = ["caffe", "tf", "torch"]


def _pixels(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(6, 5, 3), (2, 6, 5, 3)])
def test_deprocess_round_trips_preprocess_input(mode, shape):
    pixels = _pixels(shape)
    # preprocess_input works in place on float arrays: hand it a fresh copy.
    x = imagenet_utils.preprocess_input(
        pixels.astype("float32"), data_format="channels_last", mode=mode
    )
    out = deprocess(x, mode)
    assert out.dtype == np.uint8 and out.shape == shape
    assert np.abs(out.astype(int) - pixels.astype(int)).max() <= 1


def test_caffe_is_bgr_mean_centred():
    # A zero caffe input is the ImageNet mean, stored BGR, returned RGB.
    out = deprocess(np.zeros((1, 1, 3)), "caffe")
    np.testing.assert_array_equal(out[0, 0], [124, 117, 104])
    # Pure blue in BGR order (channel 0) comes back in RGB channel 2.
    x = np.array([[[255 - 103.939, -116.779, -123.68]]])
    np.testing.assert_array_equal(deprocess(x, "caffe")[0, 0], [0, 0, 255])


def test_tf_and_torch_hand_values():
    x = np.array([[[-1.0, 0.0, 1.0]]])
    np.testing.assert_array_equal(deprocess(x, "tf")[0, 0], [0, 128, 255])
    # Zero torch input is the mean: 255 * [0.485, 0.456, 0.406].
    np.testing.assert_array_equal(deprocess(np.zeros((1, 1, 3)), "torch")[0, 0], [124, 116, 104])


def test_deprocess_clips_out_of_range():
    x = np.array([[[-3.0, 2.0, 0.0]]])
    np.testing.assert_array_equal(deprocess(x, "tf")[0, 0], [0, 255, 128])


def test_deprocess_does_not_modify_input():
    x = np.zeros((2, 2, 3))
    deprocess(x, "caffe")
    assert (x == 0).all()


def test_deprocess_bad_mode():
    with pytest.raises(ValueError, match=r"mode: expected one of .* got 'keras'"):
        deprocess(np.zeros((2, 2, 3)), "keras")


@pytest.mark.parametrize("shape", [(5,), (4, 4), (4, 4, 1), (1, 1, 4, 4, 3)])
def test_deprocess_bad_shape(shape):
    with pytest.raises(ValueError, match=r"x: expected shape"):
        deprocess(np.zeros(shape), "tf")


def test_deprocess_nan():
    x = np.zeros((2, 2, 3))
    x[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN"):
        deprocess(x, "tf")


# to_uint8_image


def test_uint8_passes_through_unchanged():
    pixels = _pixels((4, 5, 3))
    np.testing.assert_array_equal(to_uint8_image(pixels), pixels)


def test_float_unit_range_is_scaled_by_255():
    image = np.array([[0.0, 0.2, 0.5, 1.0]])
    out = to_uint8_image(image)
    assert out.shape == (1, 4, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, :, 0], [0, 51, 128, 255])


def test_float_0_255_range_is_rounded_not_scaled():
    image = np.array([[0.0, 1.4, 127.6, 255.0]])
    np.testing.assert_array_equal(to_uint8_image(image)[0, :, 0], [0, 1, 128, 255])


def test_float_range_rule_is_decided_by_the_max():
    # Max exactly 1.0 -> [0, 1] convention; max just above 1 -> [0, 255].
    np.testing.assert_array_equal(to_uint8_image(np.array([[1.0]]))[0, 0], [255] * 3)
    np.testing.assert_array_equal(to_uint8_image(np.array([[1.01]]))[0, 0], [1] * 3)


def test_float_rgb_unit_range_keeps_channels():
    image = np.array([[[1.0, 0.0, 0.5]]], dtype="float32")
    np.testing.assert_array_equal(to_uint8_image(image)[0, 0], [255, 0, 128])


@pytest.mark.parametrize("mode", MODES)
def test_preprocessed_image_is_deprocessed(mode):
    pixels = _pixels((6, 5, 3), seed=1)
    x = imagenet_utils.preprocess_input(
        pixels.astype("float32"), data_format="channels_last", mode=mode
    )
    out = to_uint8_image(x, preprocessing=mode)
    np.testing.assert_array_equal(out, deprocess(x, mode))
    assert np.abs(out.astype(int) - pixels.astype(int)).max() <= 1


@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 1)])
def test_grayscale_becomes_rgb(shape):
    gray = _pixels(shape)
    out = to_uint8_image(gray)
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray.reshape(3, 4))


def test_integer_dtypes_in_range_are_accepted():
    image = np.array([[0, 7, 255]], dtype=np.int64)
    np.testing.assert_array_equal(to_uint8_image(image)[0, :, 0], [0, 7, 255])


def test_bad_shape_message_names_image():
    expected = "image: expected shape (H, W), (H, W, 1) or (H, W, 3), got (5,)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        to_uint8_image(np.zeros(5))


@pytest.mark.parametrize("shape", [(4, 4, 4), (4, 4, 2), (2, 4, 4, 3)])
def test_bad_channels_or_rank(shape):
    with pytest.raises(ValueError, match="image: expected shape"):
        to_uint8_image(np.zeros(shape))


def test_nan_image():
    image = np.full((2, 2, 3), 0.5)
    image[1, 1, 2] = np.nan
    with pytest.raises(ValueError, match="image: contains NaN"):
        to_uint8_image(image)


def test_negative_float_without_preprocessing_hints_at_preprocessing():
    with pytest.raises(ValueError, match=r"image: float values .*preprocessing="):
        to_uint8_image(np.full((2, 2, 3), -0.5))


def test_float_above_255_raises():
    with pytest.raises(ValueError, match="image"):
        to_uint8_image(np.full((2, 2, 3), 300.0))


def test_integer_out_of_range_raises():
    with pytest.raises(ValueError, match=r"image: expected values in \[0, 255\]"):
        to_uint8_image(np.array([[0, 256]]))


def test_non_numeric_dtypes_raise():
    with pytest.raises(ValueError, match="image: expected an integer or float"):
        to_uint8_image(np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="image: expected a non-empty"):
        to_uint8_image(np.zeros((0, 2, 3)))


def test_unknown_preprocessing_raises():
    with pytest.raises(ValueError, match=r"preprocessing: expected one of .*'imagenet'"):
        to_uint8_image(np.zeros((2, 2, 3)), preprocessing="imagenet")


def test_preprocessing_needs_three_channels():
    with pytest.raises(ValueError, match=r"image: preprocessing='tf' expects 3 channels"):
        to_uint8_image(np.zeros((2, 2)), preprocessing="tf")
