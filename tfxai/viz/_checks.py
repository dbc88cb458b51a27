"""Shared argument checks for `tfxai.viz`: every error names the argument."""

from __future__ import annotations

from typing import Any

import numpy as np


def as_real_array(value: Any, name: str) -> np.ndarray:
    """Returns `value` as a non-empty numpy array of integers or floats.

    Args:
        value: Array-like to check.
        name: String, the argument name used in error messages.

    Returns:
        A numpy array with an integer or floating dtype.

    Raises:
        ValueError: If the dtype is not integer or floating (bool, complex,
            strings, objects) or the array is empty.
    """
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{name}: expected an integer or float array, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {array.shape}")
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    """Raises a `ValueError` naming `name` if `array` holds NaN or inf."""
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains NaN or infinite values")


def check_range(array: np.ndarray, name: str, low: float, high: float) -> None:
    """Raises a `ValueError` naming `name` if values fall outside [low, high]."""
    lo, hi = array.min(), array.max()
    if lo < low or hi > high:
        raise ValueError(
            f"{name}: expected values in [{low}, {high}], got values in [{lo:g}, {hi:g}]"
        )


def check_image_shape(array: np.ndarray, name: str) -> None:
    """Raises a `ValueError` unless `array` is (H, W), (H, W, 1) or (H, W, 3)."""
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3))):
        raise ValueError(
            f"{name}: expected shape (H, W), (H, W, 1) or (H, W, 3), got {array.shape}"
        )


def integers_to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    """Checks an integer array lies in [0, 255] and casts it to uint8."""
    if array.dtype == np.uint8:
        return array
    check_range(array, name, 0, 255)
    return array.astype(np.uint8)


def unit_floats_to_uint8(array: np.ndarray) -> np.ndarray:
    """Maps floats in [0, 1] to uint8 [0, 255] by rounding `x * 255`."""
    return np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
