"""Token sequences <-> spatial grids: the layers of vision transformers as image maps.

A ViT layer outputs `(B, N, D)`: `N = skip + h * w` tokens, the `skip` leading ones
(a class token, register tokens) followed by one token per image patch in row-major order
(the order of a strided Conv2D patch embedding reshaped to a sequence). `to_grid` turns
such a sequence into a `(B, h, w, D)` map, so every CAM and every spatial objective works
on it as on a convolution's output.

The grid is given (`tokens=(h, w, skip)`) or inferred from `N` and the input image size
`(H, W)`: the smallest `skip` in `0..8` for which `N - skip` tokens make an `h x w` grid
of the image's aspect ratio exactly (`h * W == w * H`). For grids of at least 4 rows and
4 columns the smallest such `skip` is the only one (`k^2 ab + s` tokens on a `ka x kb`
grid are another grid of that ratio plus `s' < s` only when `ab (2k - 1) <= s - s' <= 8`),
so a class token, a class token and four registers, or none are told apart. Smaller grids,
sizes the patches do not divide (a grid of another ratio) and other layouts take
`tokens=`; a sequence that makes no such grid (an LSTM's time steps, say) is not a token
layer.

Which token layers' patch tokens the output reads at all is `tfxai.token_influence`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = [
    "MAX_SKIP",
    "TokenGrid",
    "check_tokens",
    "grid_of",
    "infer_grid",
    "to_grid",
]

#: The most leading (class, register, distillation) tokens an inferred grid drops.
MAX_SKIP = 8


@dataclasses.dataclass(frozen=True)
class TokenGrid:
    """How a `(B, N, D)` token sequence maps onto an image: `N = skip + height * width`.

    Args:
        height: Integer, rows of patches.
        width: Integer, columns of patches.
        skip: Integer, default 0. Leading tokens that are not patches (class, register
            tokens); -1 (from `check_tokens((h, w))`) means "whatever is left over".

    Example:
        >>> TokenGrid(14, 14, 1).count  # ViT-B/16 at 224 px: a class token + 196 patches
        197
    """

    height: int
    width: int
    skip: int = 0

    @property
    def count(self) -> int:
        """The number of tokens `skip + height * width`."""
        return self.skip + self.height * self.width


def check_tokens(tokens: Any) -> TokenGrid | None:
    """Checks a user's `tokens=` option: `None`, `(h, w)` or `(h, w, skip)`.

    Args:
        tokens: `None` (infer the grid), a `TokenGrid`, or a tuple of non-negative integers
            `(height, width)` (the leading tokens are whatever is left over) or
            `(height, width, skip)`.

    Returns:
        A `TokenGrid` (with `skip=-1` for "the rest", resolved by `grid_of`), or `None`.

    Raises:
        ValueError: If `tokens` is none of the above.

    Example:
        >>> check_tokens((14, 14, 1))
        TokenGrid(height=14, width=14, skip=1)
    """
    if tokens is None or isinstance(tokens, TokenGrid):
        return tokens
    values = tuple(tokens) if isinstance(tokens, (tuple, list)) else None
    if (
        values is None
        or len(values) not in (2, 3)
        or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in values)
        or any(v < 1 for v in values[:2])
        or (len(values) == 3 and values[2] < 0)
    ):
        raise ValueError(
            f"tokens: expected None (infer the grid) or (height, width, skip) with positive "
            f"height and width and skip >= 0 leading tokens, e.g. (14, 14, 1) for a ViT-B/16 "
            f"with a class token; got {tokens!r}."
        )
    skip = int(values[2]) if len(values) == 3 else -1
    return TokenGrid(int(values[0]), int(values[1]), skip)


def _fits(height: int, width: int, image: tuple[int, int]) -> bool:
    """Whether an `height x width` patch grid has the aspect ratio of `image` = `(H, W)`."""
    rows, cols = image
    return height * cols == width * rows


def infer_grid(count: int, image: tuple[int, int] | None = None) -> TokenGrid | None:
    """The grid of a sequence of `count` tokens for an image of `image` = `(H, W)` pixels.

    Args:
        count: Integer, the number of tokens `N`.
        image: `(H, W)` of the model input, or `None` (unknown: square grids only).

    Returns:
        The `TokenGrid` with the smallest `skip` in `0..MAX_SKIP` whose `N - skip` tokens
        make a grid of more than one patch fitting the image's shape, or `None`.

    Example:
        >>> infer_grid(197, (224, 224))  # ViT-B/16: a class token and 14x14 patches
        TokenGrid(height=14, width=14, skip=1)
        >>> infer_grid(24, (32, 48))  # 8 px patches of a 32x48 image, no class token
        TokenGrid(height=4, width=6, skip=0)
    """
    known = image is not None and all(isinstance(v, int) and v > 0 for v in image)
    for skip in range(min(MAX_SKIP, count - 2) + 1):
        patches = count - skip
        if not known:
            side = math.isqrt(patches)
            if side * side == patches:
                return TokenGrid(side, side, skip)
            continue
        rows, cols = image  # type: ignore[misc]
        # The divisor pair closest to the image's aspect ratio first (square for square).
        pairs = [(h, patches // h) for h in range(1, patches + 1) if patches % h == 0]
        pairs.sort(key=lambda p: abs(math.log(p[0] * cols / (p[1] * rows))))
        for height, width in pairs:
            if _fits(height, width, (rows, cols)):
                return TokenGrid(height, width, skip)
    return None


def grid_of(
    shape: Sequence[Any],
    tokens: TokenGrid | None,
    image: tuple[int, int] | None,
    path: Any = None,
) -> TokenGrid:
    """The grid of a `(B, N, D)` layer output: `tokens` checked against `N`, or inferred.

    Args:
        shape: The layer output's shape `(B, N, D)`.
        tokens: A `TokenGrid` from `check_tokens`, or `None` to infer it.
        image: `(H, W)` of the model input, or `None`.
        path: The layer's name or path, for messages.

    Returns:
        The `TokenGrid`.

    Raises:
        ValueError: If `tokens` does not fit `N` or no grid can be inferred; the message
            names `tokens`, the shape seen and what is expected.

    Example:
        >>> grid_of((None, 21, 384), None, (224, 224))  # class + 4 registers + 4x4
        TokenGrid(height=4, width=4, skip=5)
    """
    count = shape[1]
    if count is None:
        raise ValueError(
            f"layer: {path!r} has an output of shape {tuple(shape)} with an unknown number "
            f"of tokens; pass tokens=(height, width, skip)."
        )
    if tokens is not None:
        skip = count - tokens.height * tokens.width if tokens.skip < 0 else tokens.skip
        if skip < 0 or skip + tokens.height * tokens.width != count:
            raise ValueError(
                f"tokens: {(tokens.height, tokens.width, tokens.skip)} does not fit layer "
                f"{path!r}, whose output {tuple(shape)} has {count} tokens; expected "
                f"skip + height * width == {count}."
            )
        return TokenGrid(tokens.height, tokens.width, skip)
    grid = infer_grid(count, image)
    if grid is None:
        size = f"{image[0]}x{image[1]} " if image is not None else ""
        raise ValueError(
            f"tokens: cannot infer a patch grid for layer {path!r}: its output "
            f"{tuple(shape)} has {count} tokens, which is no grid of the {size}input's "
            f"shape after dropping 0..{MAX_SKIP} leading tokens; pass "
            f"tokens=(height, width, skip) with skip + height * width == {count}, or choose "
            f"a (batch, height, width, channels) or (batch, tokens, channels) layer."
        )
    return grid


def to_grid(
    tokens: tf.Tensor, grid: TokenGrid | None, image: tuple[int, int] | None, path: Any = None
) -> tf.Tensor:
    """A `(B, N, D)` token sequence as a `(B, h, w, D)` map (row-major, leading dropped).

    Args:
        tokens: Tensor `(B, N, D)`.
        grid: A `TokenGrid` (from `check_tokens`) or `None` to infer it.
        image: `(H, W)` of the model input, or `None`.
        path: The layer's name or path, for messages.

    Returns:
        Tensor `(B, h, w, D)` of the same dtype.

    Raises:
        ValueError: As `grid_of`.

    Example:
        >>> to_grid(tf.zeros((2, 197, 768)), None, (224, 224)).shape
        TensorShape([2, 14, 14, 768])
    """
    found = grid_of(tuple(tokens.shape), grid, image, path)
    patches = tokens[:, found.skip :]
    return tf.reshape(patches, [-1, found.height, found.width, tokens.shape[-1]])
