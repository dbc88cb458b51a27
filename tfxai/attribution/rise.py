"""RISE: randomized input sampling, the score-weighted average of random masks.

`masks` low-resolution binary grids (each cell kept with probability `p`) are drawn once
per call from `seed`, shared by every image. Inside the compiled graph each grid is
upsampled bilinearly to `(cells + 1) * cell` pixels and cropped at its random shift to the
image size, the image is multiplied by it and scored; the graph sums `score * mask` per
image, so only the small grids go in and one map per image comes out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai.attribution import base
from tfxai.targets import Target


def check_probability(p: float) -> float:
    if (
        isinstance(p, bool)
        or not isinstance(p, (int, float, np.floating, np.integer))
        or not 0 < p <= 1
    ):
        raise ValueError(f"p: expected a probability in (0, 1], got {p!r}.")
    return float(p)


class RISE(base.Attribution):
    """RISE: `sum_n f(x * M_n) * M_n / (N * p)` over random smooth masks `M_n`.

    Each mask is a `ceil(H / cell) x ceil(W / cell)` grid of cells kept with probability
    `p`, upsampled bilinearly to `(cells + 1) * cell` pixels and cropped at a random shift
    of less than one cell, as in the paper. The map is the target score of the masked
    images weighted by the masks, divided by `N * p`. The score is the target on the
    logits by default; `logits=False` scores the model output itself (the class
    probabilities of a softmax model, as in the paper). `target=None` explains the class
    predicted on the unmasked image.

    Args:
        model: A Keras model; never changed.
        masks: Integer, default 4000. Number of random masks `N`.
        cell: Integer, `(height, width)` or `None` (default: a 7 x 7 grid, i.e.
            `ceil(H / 7)` pixels). Cell size of the low-resolution grid, in pixels.
        p: Float in (0, 1], default 0.5. Probability that a cell is kept.
        seed: Integer >= 0, default 0. Seed of the masks.
        output: Integer or string, default `None`. Output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid.
        input: String, integer or `None` (default). The image input of a model with several
            inputs (see `tfxai.explainer.Explainer`).

    Raises:
        ValueError: On a bad `masks`, `cell`, `p` or `seed`; at call time, if the cell is
            larger than the images.

    Example:
        >>> maps = RISE(model, masks=2000)(images, target=[3, 5])

    Reference:
        Petsiuk et al., "RISE: Randomized Input Sampling for Explanation of Black-box
        Models", BMVC 2018. https://arxiv.org/abs/1806.07421
    """

    perturbs = True

    def __init__(
        self,
        model: keras.Model,
        *,
        masks: int = 4000,
        cell: int | tuple[int, int] | None = None,
        p: float = 0.5,
        seed: int = 0,
        output: int | str | None = None,
        logits: bool = True,
        input: int | str | None = None,
    ) -> None:
        super().__init__(model, output=output, logits=logits, input=input)
        self.masks = base.positive_int(masks, "masks")
        self.cell = None if cell is None else base.int_pair(cell, "cell")
        self.p = check_probability(p)
        self.seed = base.check_seed(seed)

    def __repr__(self) -> str:
        return f"RISE(model={self.model.name!r}, masks={self.masks}, p={self.p:g})"

    def cell_size(self, size: Sequence[int]) -> tuple[int, int]:
        """The cell size `(h, w)` for images of `size`."""
        cell = self.cell or (math.ceil(size[0] / 7), math.ceil(size[1] / 7))
        if cell[0] > size[0] or cell[1] > size[1]:
            raise ValueError(
                f"cell: {cell} is larger than the images {tuple(size)}; "
                f"expected at most the image size."
            )
        return cell

    def grids(self, size: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """`(grids (N, gh, gw) float32, shifts (N, 2) int32)` drawn from `seed`."""
        cell = self.cell_size(size)
        cells = (math.ceil(size[0] / cell[0]), math.ceil(size[1] / cell[1]))
        rng = np.random.default_rng(self.seed)
        grids = (rng.random((self.masks,) + cells) < self.p).astype(np.float32)
        shifts = np.stack(
            [rng.integers(0, cell[0], self.masks), rng.integers(0, cell[1], self.masks)], axis=1
        ).astype(np.int32)
        return grids, shifts

    def mask_images(self, size: Sequence[int]) -> np.ndarray:
        """The `N` masks `(N, H, W)` float32 as the graph builds them (for inspection)."""
        grids, shifts = self.grids(size)
        return _upsample(
            tf.constant(grids), tf.constant(shifts), self.cell_size(size), size
        ).numpy()

    def explain_batch(
        self, batch: np.ndarray, target: Target, params: Any, batch_size: int, offset: int
    ) -> np.ndarray:
        del offset
        base.images_only(batch, "RISE")
        size = batch.shape[1:3]
        grids, shifts = self.grids(size)
        image = np.repeat(np.arange(len(batch), dtype=np.int32), self.masks)
        mask = np.tile(np.arange(self.masks), len(batch))
        rows = {"unit": image, "image": image, "grid": grids[mask], "shift": shifts[mask]}
        sums = np.zeros(batch.shape[:3], np.float64)

        def store(ids, values):
            sums[ids] = values

        self.run_rows(
            "rise",
            self._graph(target, self.cell_size(size)),
            batch,
            target,
            rows,
            {"target": params},
            batch_size,
            store,
        )
        return (sums / (self.masks * self.p)).astype(np.float32)

    def _graph(self, target, cell):
        def rise_graph(x, p):
            rows = p["rows"]
            images = base.gather_rows(p["images"], rows)
            masks = _upsample(rows["grid"], rows["shift"], cell, tuple(x.shape[1:3]))
            masked = tf.gather(x, rows["image"]) * masks[..., None]
            _, scores, _ = self.engine.scores_and_outputs(
                masked, target, images["target"], capture=False
            )
            return base.unit_sums(scores[:, None, None] * masks, rows), scores

        return rise_graph


def _upsample(grids, shifts, cell, size):
    """Grids `(n, gh, gw)` upsampled to `(g + 1) * cell` and cropped at their shifts."""
    cells = grids.shape[1:3]
    big = ((cells[0] + 1) * cell[0], (cells[1] + 1) * cell[1])
    up = tf.image.resize(grids[..., None], big, method="bilinear")[..., 0]
    ys = shifts[:, :1] + tf.range(size[0])[None, :]
    xs = shifts[:, 1:] + tf.range(size[1])[None, :]
    up = tf.gather(up, ys, axis=1, batch_dims=1)
    return tf.gather(up, xs, axis=2, batch_dims=1)


rise = base.function_form(
    RISE,
    "rise",
    "RISE",
    "https://arxiv.org/abs/1806.07421",
    extra=(
        ", `masks` (Integer, default 4000), `cell` (Integer or (h, w), default a 7x7 "
        "grid), `p` (Float, default 0.5), `seed` (Integer, default 0)"
    ),
    example=", masks=2000",
)
