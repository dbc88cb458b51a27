"""Per-image similarity of two batches of maps `(B, H, W)`: Spearman, Pearson, SSIM.

Constant maps carry no ranking: the correlation of a constant map with a varying one is
0, and of two constant maps 1 (they are identical up to scale).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tfxai.metrics import _filters

#: `fn(first, second) -> (B,)` on two batches of maps `(B, H, W)`.
Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _correlation(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    a = first - first.mean(axis=1, keepdims=True)
    b = second - second.mean(axis=1, keepdims=True)
    norm_a = np.sqrt(np.sum(a * a, axis=1))
    norm_b = np.sqrt(np.sum(b * b, axis=1))
    both = (norm_a > 0) & (norm_b > 0)
    value = np.sum(a * b, axis=1) / np.where(both, norm_a * norm_b, 1.0)
    value = np.where(both, value, np.where((norm_a == 0) & (norm_b == 0), 1.0, 0.0))
    return np.clip(value, -1.0, 1.0)


def _flat(maps: np.ndarray) -> np.ndarray:
    maps = np.asarray(maps, dtype=np.float64)
    return maps.reshape(len(maps), -1)


def pearson(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """float64 `(B,)`: Pearson correlation of each pair of maps."""
    return _correlation(_flat(first), _flat(second))


def spearman(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """float64 `(B,)`: Spearman rank correlation of each pair of maps (ties averaged).

    Equal to `scipy.stats.spearmanr(a.ravel(), b.ravel())` for each pair of varying maps.
    """
    ranks_a = _filters.average_ranks(_flat(first))
    ranks_b = _filters.average_ranks(_flat(second))
    return _correlation(ranks_a, ranks_b)


def _unit_scale(maps: np.ndarray) -> np.ndarray:
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def ssim(first: np.ndarray, second: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """float64 `(B,)`: mean structural similarity of each pair of maps.

    Both maps are min-max scaled to [0, 1] first (data range 1); local statistics use a
    Gaussian window of standard deviation `sigma` (11x11 for 1.5), with Wang et al.'s
    constants `K1 = 0.01, K2 = 0.03`.

    Reference:
        Wang et al., "Image Quality Assessment: From Error Visibility to Structural
        Similarity", IEEE TIP 2004. https://doi.org/10.1109/TIP.2003.819861
    """
    a = _unit_scale(np.asarray(first, dtype=np.float64))
    b = _unit_scale(np.asarray(second, dtype=np.float64))

    def local_mean(x: np.ndarray) -> np.ndarray:
        return _filters.gaussian_filter(x, sigma, int(3.5 * sigma + 0.5), mode="reflect")

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mu_a**2
    var_b = local_mean(b * b) - mu_b**2
    cov = local_mean(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return index.mean(axis=(1, 2))


SIMILARITIES = {"spearman": spearman, "pearson": pearson, "ssim": ssim}


def get(similarity: str | Similarity) -> tuple[str, Similarity]:
    """`(name, fn)` for a similarity name or a callable `fn(first, second) -> (B,)`.

    Raises:
        ValueError: For an unknown name.
    """
    if callable(similarity):
        return getattr(similarity, "__name__", "similarity"), similarity
    if similarity in SIMILARITIES:
        return similarity, SIMILARITIES[similarity]
    raise ValueError(
        f"similarity: expected one of {sorted(SIMILARITIES)} or a callable "
        f"(first, second) -> (batch,), got {similarity!r}."
    )
