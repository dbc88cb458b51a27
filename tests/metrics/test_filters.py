"""The metrics' numpy filters against SciPy (a test-only dependency)."""

import numpy as np
import pytest
import scipy.ndimage
import scipy.stats

from tfxai.metrics import _filters


@pytest.mark.parametrize(
    "mode, sigma, radius, size",
    [
        ("nearest", 5.0, 5, 16),
        ("nearest", 5.0, 5, 7),
        ("reflect", 1.5, 5, 16),
        ("reflect", 1.0, 2, 9),
    ],
)
def test_gaussian_filter_matches_scipy(mode, sigma, radius, size):
    images = np.random.default_rng(0).uniform(0, 1, (2, size, size + 3, 3))

    ours = _filters.gaussian_filter(images, sigma, radius, mode=mode)

    theirs = scipy.ndimage.gaussian_filter(
        images, sigma=(0, sigma, sigma, 0), truncate=radius / sigma, mode=mode
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_average_ranks_match_scipy_rankdata():
    rows = np.round(np.random.default_rng(1).uniform(0, 1, (3, 50)), 1)  # many ties

    np.testing.assert_array_equal(_filters.average_ranks(rows), scipy.stats.rankdata(rows, axis=1))


def test_within_distance_matches_a_euclidean_distance_transform():
    rng = np.random.default_rng(2)
    for trial in range(40):
        mask = np.zeros((20, 24), dtype=bool)
        row, col = rng.integers(0, 16, 2)
        mask[row : row + rng.integers(1, 5), col : col + rng.integers(1, 8)] = True
        mask[rng.integers(0, 20), rng.integers(0, 24)] = True  # a second component
        points = rng.uniform(size=mask.shape) < 0.01 * (1 + trial % 3)
        distance = scipy.ndimage.distance_transform_edt(~mask)
        for tolerance in (0, 1, 2.5, 4, 7.1):
            expected = bool(np.any(distance[points] <= tolerance))
            assert _filters.within_distance(points, mask, tolerance, chunk=64) == expected
