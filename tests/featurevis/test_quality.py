"""Feature-visualization quality on the bundled shapes classifier (what the issue asks).

- `class_logit` for every class renders an image the classifier gives that class with
  probability >= 0.9;
- a `channel` objective raises the channel's mean activation over the starting image
  (the mid-grey noise of the initial parameterization). Measured on the 16 first channels
  of `block4_out` with the default 512 steps: 12 of 16 channels rise 19x-41000x; the
  four that the grey start already drives (start 0.71-1.76) rise 2.4x-10x. The test
  asserts 10x for every channel that starts below 0.5, a median >= 10x and 2x for all;
- the same seed gives the same images;
- FFT + decorrelated images carry less high-frequency energy than pixel-parameterized
  ones when the parameterization alone differs (the figures are printed).
"""

import numpy as np
import pytest
import tensorflow as tf

from tfxai import models
from tfxai.featurevis import channel, class_logit, render

SIZE = 96


@pytest.fixture(scope="module")
def classifier():
    return models.load("shapes-classifier")


def high_frequency_fraction(images):
    """Per image: the share of spectral power above half the Nyquist frequency."""
    gray = images.mean(-1)
    gray = gray - gray.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(gray)) ** 2
    fy = np.fft.fftfreq(gray.shape[1])[:, None]
    fx = np.fft.fftfreq(gray.shape[2])[None, :]
    high = np.sqrt(fy**2 + fx**2) > 0.25
    return power[:, high].sum(-1) / power.reshape(len(power), -1).sum(-1)


def test_class_logit_images_are_classified_as_their_class(classifier):
    classes = list(range(classifier.output_shape[-1]))
    result = render(classifier, class_logit(classes), size=SIZE, steps=128, progress=False)
    probabilities = tf.nn.softmax(classifier.predict(result.images, verbose=0)).numpy()
    print("\np(class | rendered image):", probabilities[classes, classes].round(4))
    assert np.all(probabilities[classes, classes] >= 0.9)


def test_channel_objective_raises_the_mean_activation(classifier):
    objective = channel("block4_out", list(range(16)))
    start = render(classifier, objective, size=SIZE, steps=0, progress=False).values
    end = render(classifier, objective, size=SIZE, steps=512, progress=False).values
    ratio = end / np.maximum(start, 1e-6)
    print("\nstart:", start.round(3), "\nend:", end.round(2), "\nratio:", ratio.round(1))
    assert np.all(ratio[start < 0.5] >= 10.0)
    assert np.median(ratio) >= 10.0 and np.all(ratio >= 2.0)


def test_same_seed_same_image_on_the_classifier(classifier):
    first = render(classifier, class_logit([1, 3]), size=SIZE, steps=16, seed=7, progress=False)
    again = render(classifier, class_logit([1, 3]), size=SIZE, steps=16, seed=7, progress=False)
    np.testing.assert_array_equal(first.images, again.images)


def test_fft_decorrelated_images_have_less_high_frequency_energy(classifier):
    """The parameterization alone (no transforms) decides the high-frequency content.

    Measured here (128 steps, the 5 class logits): without transforms, 0.23 of the power
    lies above half Nyquist for FFT + decorrelated images and 0.62 for pixel images; with
    the standard transforms 0.060 and 0.145 (the transforms suppress part of the pixel
    noise by themselves). The assertion is on the parameterization alone.
    """
    objective = class_logit(list(range(classifier.output_shape[-1])))
    shares = {}
    for transforms in (None, "standard"):
        for name, options in (("fft", {}), ("pixel", {"param": "pixel", "decorrelate": False})):
            result = render(
                classifier,
                objective,
                size=SIZE,
                steps=128,
                transforms=transforms,
                progress=False,
                **options,
            )
            shares[name, transforms] = high_frequency_fraction(result.images)
    print("\nspectral power above half Nyquist (mean of 5 images):")
    for (name, transforms), share in shares.items():
        print(f"  {name:5s} transforms={transforms}: {share.mean():.3f}")
    fft, pixel = shares["fft", None], shares["pixel", None]
    assert fft.mean() < 0.5 * pixel.mean()
    assert np.all(fft < pixel)
