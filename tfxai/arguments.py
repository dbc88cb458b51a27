"""Argument checks: counts, sizes, seeds, flags and fractions, each naming the argument.

Every check returns the value in its plain Python type (`int`, `float`, `bool`, a pair of
ints) or raises with the argument's name, what was given and what is expected. Shared by
every explainer, feature visualization and the callbacks (through `tfxai.inputs`, which
re-exports them).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def positive_int(value: Any, name: str) -> int:
    """Returns `value` as an int, or raises `ValueError` naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}.")
    return int(value)


def int_pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints `(h, w)`, all positive, as a tuple of two ints."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in pair
    ):
        raise ValueError(
            f"{name}: expected a positive integer or a pair of positive "
            f"integers (height, width), got {value!r}."
        )
    return int(pair[0]), int(pair[1])


def non_negative_float(value: Any, name: str) -> float:
    """Returns `value` as a finite float >= 0, or raises `ValueError` naming `name`."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(float(value))
        or value < 0
    ):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}.")
    return float(value)


def check_seed(seed: Any) -> int:
    """Returns `seed` as an int >= 0, or raises `ValueError`."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}.")
    return int(seed)


def check_bool(value: Any, name: str) -> bool:
    """Returns a flag as a bool, or raises a `TypeError` naming `name`.

    Only `True` and `False` (numpy booleans too) are flags: `"no"`, `1` or `None` are
    refused rather than read by their truth value (`"no"` is true).

    Args:
        value: The flag to check.
        name: String, the argument name used in error messages.

    Returns:
        A Python bool.

    Raises:
        TypeError: If `value` is not a boolean.

    Example:
        >>> check_bool("no", "normalize")
        TypeError: normalize: expected True or False, got 'no'.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}.")
    return bool(value)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def unit_interval(value: Any, name: str) -> float:
    """Returns a number in [0, 1] (a threshold, a fraction) as a float.

    Raises:
        ValueError: If `value` is not a real number in [0, 1] (NaN, a string or a bool
            included), naming `name`.
    """
    if not _is_real(value) or not 0 <= value <= 1:  # False for NaN too
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}.")
    return float(value)


def positive_float(value: Any, name: str) -> float:
    """Returns a finite number > 0 as a float, or raises `ValueError` naming `name`."""
    if not _is_real(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}.")
    return float(value)


def non_negative_int(value: Any, name: str) -> int:
    """Returns an integer >= 0 as an int, or raises `ValueError` naming `name`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name}: expected an integer >= 0, got {value!r}.")
    return int(value)
