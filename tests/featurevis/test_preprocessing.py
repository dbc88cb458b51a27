"""Named preprocessing modes: keras.applications' values, exact gradients, RGB only."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfxai.featurevis import preprocessing


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_named_modes_match_keras_applications(mode):
    images = np.random.default_rng(0).uniform(size=(2, 5, 4, 3)).astype(np.float32)
    fn, name = preprocessing.preprocessor(mode)
    expected = keras.applications.imagenet_utils.preprocess_input(images * 255.0, mode=mode)
    assert name == mode
    np.testing.assert_allclose(fn(tf.constant(images)).numpy(), expected, rtol=1e-5, atol=1e-4)


def test_caffe_gradient_is_the_channel_flipped_upstream_times_255():
    rng = np.random.default_rng(1)
    images = tf.Variable(rng.uniform(size=(2, 5, 4, 3)).astype(np.float32))
    weights = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
    fn, _ = preprocessing.preprocessor("caffe")
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(fn(images) * weights)
    np.testing.assert_array_equal(
        tape.gradient(score, images).numpy(), np.float32(255.0) * weights[..., ::-1]
    )


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_named_modes_refuse_other_channel_counts(mode):
    with pytest.raises(
        ValueError,
        match=f"preprocess: '{mode}' is for 3-channel RGB models; the model takes 1 channel",
    ):
        preprocessing.preprocessor(mode, channels=1)
    fn, name = preprocessing.preprocessor(lambda x: x * 2.0, channels=1)
    assert float(fn(tf.constant(0.25))) == 0.5 and name == "<lambda>"
