"""Feature-visualization objectives on vision-transformer token layers `(B, N, D)`.

`channel(layer, c)` is embedding dimension `c` averaged over the patch tokens (the class
and register tokens left out) and `neuron(layer, c, y, x)` the token at row `y`, column
`x` of the patch grid, with the grid rule of the CAMs (`tfxai.tokens`).
"""

import numpy as np
import pytest
import tensorflow as tf

from tests.vit_models import vit
from tfxai.featurevis import objectives
from tfxai.featurevis.render import render

# 1 class token + 2x3 patch tokens, 4 channels; the image is 20x30 (2:3, like the grid)
TOKENS = np.random.default_rng(3).normal(size=(2, 7, 4)).astype(np.float32)
IMAGES = np.zeros((2, 20, 30, 3), np.float32)


def _context(input_size=None):
    return objectives.Context(
        {"tok": tf.constant(TOKENS)}, tf.zeros((2, 5)), tf.constant(IMAGES), input_size
    )


def test_channel_on_tokens_is_the_mean_over_the_patch_tokens():
    target = objectives.channel("tok", [1, 3])
    values = target.score(_context(), target.bind(2)).numpy()
    expected = [TOKENS[0, 1:, 1].mean(), TOKENS[1, 1:, 3].mean()]  # not the class token
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert not np.isclose(values[0], TOKENS[0, :, 1].mean())


def test_neuron_on_tokens_is_the_token_at_its_grid_position():
    """Row-major after the class token: (y, x) is token 1 + 3 y + x of a 2x3 grid."""
    for y, x in [(0, 2), (1, 0), (1, 2)]:
        target = objectives.neuron("tok", 2, y, x)
        values = target.score(_context(), target.bind(2)).numpy()
        np.testing.assert_allclose(values, TOKENS[:, 1 + 3 * y + x, 2], rtol=1e-6)
    center = objectives.neuron("tok", 0)  # default: the middle of the 2x3 grid, (1, 1)
    np.testing.assert_allclose(center.score(_context(), center.bind(2)), TOKENS[:, 5, 0])


def test_the_grid_follows_the_model_input_size_and_tokens_option():
    # a 30x20 input makes the grid 3x2: (y, x) = (2, 0) is token 1 + 2 * 2 + 0
    target = objectives.neuron("tok", 1, 2, 0)
    values = target.score(_context((30, 20)), target.bind(2)).numpy()
    np.testing.assert_allclose(values, TOKENS[:, 5, 1], rtol=1e-6)
    given = objectives.neuron("tok", 1, 0, 1, tokens=(1, 6, 1))  # a 1x6 grid, given
    np.testing.assert_allclose(given.score(_context(), given.bind(2)), TOKENS[:, 2, 1])
    with pytest.raises(ValueError, match=r"^y, x: position \(2, 0\) is outside the 2x3 map"):
        target.score(_context(), target.bind(2))
    with pytest.raises(ValueError, match=r"^tokens: expected None"):
        objectives.channel("tok", 0, tokens=(0, 2))


@pytest.mark.parametrize(
    "make",
    [
        lambda: objectives.channel("block2_norm1", [0, 5]),
        lambda: objectives.neuron("block1_add2", [3, 7], 2, 5),
    ],
    ids=["channel", "neuron"],
)
def test_gradient_ascent_raises_token_objectives(make):
    model = vit(pool="token")
    objective = make()
    options = dict(batch=None, seed=5, param="pixel", transforms=None, progress=False)
    start = render(model, objective, steps=0, **options)
    end = render(model, objective, steps=30, **options)
    assert np.all(end.values - start.values > 0.05 * np.abs(start.values) + 1e-6), (
        start.values,
        end.values,
    )
