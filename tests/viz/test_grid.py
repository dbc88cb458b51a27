"""image_grid: tiles land at the right offsets, labels are drawn, bad input is named."""

import numpy as np
import pytest

from tfxai.viz import image_grid


def _tiles(rows, cols, size=8):
    values = np.arange(rows * cols, dtype=np.uint8).reshape(rows, cols, 1, 1, 1) * 20 + 10
    return np.broadcast_to(values, (rows, cols, size, size, 3)).copy()


def test_tiles_are_placed_row_major_with_padding():
    grid = image_grid(_tiles(2, 3), pad=2)
    assert grid.shape == (2 + 2 * 10, 2 + 3 * 10, 3)
    for row in range(2):
        for col in range(3):
            y, x = 2 + row * 10, 2 + col * 10
            assert np.all(grid[y : y + 8, x : x + 8] == (row * 3 + col) * 20 + 10)
    assert np.all(grid[0:2] == 255) and np.all(grid[:, 10:12] == 255)


def test_labels_add_bands_with_ink():
    plain = image_grid(_tiles(2, 2))
    labeled = image_grid(_tiles(2, 2), row_labels=["a", "bb"], col_labels=["x", "y"])
    assert labeled.shape[0] == plain.shape[0] + 14
    assert labeled.shape[1] == plain.shape[1] + 6 * 2 + 6
    assert labeled[:14].min() < 128  # column labels drawn in dark ink
    assert labeled[14:, :18].min() < 128  # row labels too


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"tiles: expected uint8 tiles"):
        image_grid(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"col_labels: expected 3 labels, got 1"):
        image_grid(_tiles(1, 3), col_labels=["one"])
