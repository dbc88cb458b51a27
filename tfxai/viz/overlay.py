"""Blend a colored heatmap over an image."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from matplotlib.colors import Colormap
from PIL import Image

from tfxai.viz import _checks
from tfxai.viz.colormaps import apply_colormap, check_heatmap
from tfxai.viz.deprocess import to_uint8_image


def _check_alpha(alpha: float) -> float:
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, numbers.Real)
        or not 0.0 <= float(alpha) <= 1.0  # False for NaN too.
    ):
        raise ValueError(f"alpha: expected a number in [0, 1], got {alpha!r}")
    return float(alpha)


def resize_heatmap(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resizes a 2-D heatmap bilinearly with Pillow.

    Args:
        heatmap: Float array of shape `(h, w)` with values in [0, 1].
        size: Tuple of 2 integers, the output `(H, W)`.

    Returns:
        A float64 array of shape `size`, clipped to [0, 1].

    Example:

    >>> resize_heatmap(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]])
    """
    height, width = size
    image = Image.fromarray(np.asarray(heatmap, dtype=np.float32))  # mode "F"
    resized = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)


def overlay(
    image: Any,
    heatmap: Any,
    alpha: float = 0.4,
    colormap: str | Colormap = "jet",
    preprocessing: str | None = None,
) -> np.ndarray:
    """Blends a colored heatmap over an image (or a batch of both).

    Each output pixel is `round((1 - alpha) * image + alpha * colored)`, where
    `image` is first converted with `to_uint8_image` and `colored` is
    `apply_colormap(heatmap, colormap)`. A heatmap whose size differs from the
    image's is resized bilinearly (Pillow) first.

    Batches broadcast: one image with `B` heatmaps (say, one per class or per
    method) gives `B` overlays, and `B` images with one heatmap likewise. The
    result is batched whenever `image` or `heatmap` is.

    Args:
        image: Array of shape `(H, W)`, `(H, W, C)` or `(B, H, W, C)` with
            `C` 1 or 3, in any convention `to_uint8_image` accepts.
        heatmap: Float array of shape `(h, w)` or `(B, h, w)`, values in
            [0, 1], such as the output of an explainer.
        alpha: Float, default 0.4. Weight of the heatmap, in [0, 1]: 0 gives
            the image, 1 the colored heatmap.
        colormap: String or `matplotlib.colors.Colormap`, default `"jet"`.
        preprocessing: String or None, default None. The `preprocess_input`
            mode (`"caffe"`, `"tf"` or `"torch"`) that produced `image`, or
            None for plain pixels.

    Returns:
        A uint8 RGB array of shape `(H, W, 3)`, or `(B, H, W, 3)` if `image`
        or `heatmap` is batched.

    Raises:
        ValueError: If `alpha` is not in [0, 1]; if `heatmap` has the wrong
            rank, NaN or values outside [0, 1], or a batch size that matches
            neither the image batch nor 1; if `image` or `preprocessing` is
            invalid (see `to_uint8_image`).

    Example:

    >>> image = np.zeros((224, 224, 3), "uint8")
    >>> heatmap = np.random.rand(7, 7)
    >>> overlay(image, heatmap, alpha=0.5).shape
    (224, 224, 3)
    """
    alpha = _check_alpha(alpha)
    heatmap = check_heatmap(heatmap)
    if heatmap.ndim not in (2, 3):
        raise ValueError(f"heatmap: expected shape (H, W) or (B, H, W), got {heatmap.shape}")
    image = _checks.as_real_array(image, "image")
    if image.ndim not in (2, 3, 4):
        raise ValueError(
            "image: expected shape (H, W), (H, W, C) or (B, H, W, C) with C 1 "
            f"or 3, got {image.shape}"
        )

    images = np.stack(
        [to_uint8_image(im, preprocessing) for im in image]
        if image.ndim == 4
        else [to_uint8_image(image, preprocessing)]
    )
    heatmaps = heatmap if heatmap.ndim == 3 else heatmap[np.newaxis]
    n_images, n_heatmaps = len(images), len(heatmaps)
    if n_images != n_heatmaps and 1 not in (n_images, n_heatmaps):
        raise ValueError(
            f"heatmap: batch size {n_heatmaps} matches neither the image batch "
            f"size {n_images} nor 1"
        )

    size = images.shape[1:3]
    if heatmaps.shape[1:] != size:
        heatmaps = np.stack([resize_heatmap(h, size) for h in heatmaps])
    colored = apply_colormap(heatmaps, colormap)

    blended = (1.0 - alpha) * images + alpha * colored
    result = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return result if image.ndim == 4 or heatmap.ndim == 3 else result[0]
