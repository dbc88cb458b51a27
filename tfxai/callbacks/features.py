"""`FeatureVisCallback`: what units and classes come to detect, epoch after epoch."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfxai import inputs, targets
from tfxai.callbacks import base
from tfxai.featurevis import preprocessing as preprocessing_lib
from tfxai.featurevis.render import Renderer
from tfxai.targets import Target


class FeatureVisCallback(base.LoggingCallback):
    """Renders feature-visualization objectives every `freq` epochs, with a fixed seed.

    Each logged epoch writes `epoch_0001.png` (one row per objective, one tile per image
    it renders), a TensorBoard image (tag `features`) and the objectives' values as
    scalars (`features/<name>`); at the end of training `timeline.png` shows one row per
    rendered image and one column per logged epoch. Each objective's optimization step is
    compiled once per fit (`tfxai.featurevis.Renderer`); every epoch starts from the same
    seed, so the pictures change only because the weights did.

    Args:
        objectives: One objective (`tfxai.featurevis.channel(...)`, `class_logit(...)`,
            `segmentation_class(...)`, ...), a list of them, or a dict `{name: objective}`.
        freq: Integer, default 1. Render every `freq` epochs.
        steps: Integer, default 128. Optimization steps per rendering.
        size: Integer, default 64. Size of the rendered images.
        seed: Integer, default 0.
        log_dir: String or path, default "logs".
        run: String, default "tfxai_features".
        timeline_columns: Integer, default 12.
        **render_options: `param`, `decorrelate`, `transforms`, `preprocessing`,
            `optimizer`, `output`, as in `tfxai.render` (`preprocess`: the former
            spelling of `preprocessing`, deprecated).

    Raises:
        TypeError, ValueError: On objectives of the wrong type, bad steps or options; an
            objective that does not fit the model (unknown layer, channel out of range)
            fails at `on_train_begin`.

    Example:
        >>> features = FeatureVisCallback({"circle": class_logit(0),
        ...                                "block4": channel("block4_out", [0, 1, 2])},
        ...                               freq=5, steps=128)
    """

    default_run = "tfxai_features"
    keeps_start = False
    _RENDER_OPTIONS = (
        "param",
        "decorrelate",
        "transforms",
        "preprocessing",
        "optimizer",
        "output",
        "preprocess",  # the former spelling of preprocessing (deprecated)
    )

    def __init__(
        self,
        objectives: Target | Sequence[Target] | Mapping[str, Target],
        *,
        freq: int = 1,
        steps: int = 128,
        size: int | tuple[int, int] = 64,
        seed: int = 0,
        log_dir: str | os.PathLike[str] | None = "logs",
        run: str | None = None,
        timeline_columns: int = 12,
        **render_options: Any,
    ) -> None:
        self.objectives = _named(objectives)
        unknown = sorted(set(render_options) - set(self._RENDER_OPTIONS))
        if unknown:
            raise ValueError(
                f"{unknown[0]}: not an option of FeatureVisCallback; render "
                f"options are {', '.join(self._RENDER_OPTIONS)}."
            )
        self.steps = inputs.positive_int(steps, "steps")
        if "preprocess" in render_options:  # warns now, at the user's line, not in `fit`
            render_options["preprocessing"], _ = preprocessing_lib.spelled(
                render_options.get("preprocessing"), render_options.pop("preprocess")
            )
        self.size, self.render_options = size, render_options
        self.seed = inputs.check_seed(seed)
        self.renderers: dict[str, Renderer] = {}
        super().__init__(freq=freq, log_dir=log_dir, run=run, timeline_columns=timeline_columns)

    def prepare(self) -> None:
        self.renderers = {
            name: Renderer(self.model, objective, size=self.size, **self.render_options)
            for name, objective in self.objectives.items()
        }

    def compute(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """`{name: (uint8 images (b, H, W, 3), values (b,))}` for the current weights."""
        column = {}
        for name, renderer in self.renderers.items():
            rendering = renderer(steps=self.steps, seed=self.seed)
            if not np.all(np.isfinite(rendering.values)):
                raise ValueError(f"objectives: {name!r} became NaN while rendering.")
            images = np.rint(255 * np.clip(rendering.images, 0, 1)).astype(np.uint8)
            if images.shape[-1] == 1:  # a grayscale model: grey RGB tiles
                images = np.repeat(images, 3, axis=-1)
            column[name] = (images, rendering.values)
        return column

    def write(
        self,
        column: dict[str, tuple[np.ndarray, np.ndarray]],
        name: str,
        label: str,
        step: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        if self.writer is None:
            return
        grid = _objective_grid(column)
        self.writer.png(f"{name}.png", grid)
        self.writer.image("features", grid, step)
        self.writer.scalars(
            {f"features/{key}": float(np.mean(values)) for key, (_, values) in column.items()}, step
        )
        self.writer.flush()

    def timeline_images(
        self, labels: Sequence[str], columns: Sequence[Any]
    ) -> dict[str, np.ndarray]:
        rows, names = [], []
        for key, (images, _) in columns[0].items():
            for index in range(len(images)):
                rows.append([column[key][0][index] for column in columns])
                names.append(key if len(images) == 1 else f"{key}[{index}]")
        return {"timeline": base.tile_grid(rows, names, labels)}


def _named(
    objectives: Target | Sequence[Target] | Mapping[str, Target],
) -> dict[str, Target]:
    """`{name: objective}` from one objective, a list or a dict."""
    if isinstance(objectives, targets.Target):
        objectives = [objectives]
    if isinstance(objectives, dict):
        named = {str(k): v for k, v in objectives.items()}
    elif isinstance(objectives, (list, tuple)):
        named = {}
        for index, objective in enumerate(objectives):
            name = getattr(objective, "name", None) or f"objective {index}"
            named[name if name not in named else f"{name} ({index})"] = objective
    else:
        raise TypeError(
            f"objectives: expected an objective, a list or a dict of them, got "
            f"{type(objectives).__name__}."
        )
    if not named:
        raise ValueError("objectives: got none; expected at least one objective.")
    for name, objective in named.items():
        if not isinstance(objective, targets.Target):
            raise TypeError(
                f"objectives: {name!r} is a {type(objective).__name__}; expected "
                f"an objective from tfxai.featurevis (channel, class_logit, ...)."
            )
    return named


def _objective_grid(column: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """One row per objective, one tile per image (white where a row is shorter)."""
    width = max(len(images) for images, _ in column.values())
    tile_shape = next(iter(column.values()))[0].shape[1:]
    rows = []
    for images, _ in column.values():
        blank = np.full((width - len(images),) + tile_shape, 255, np.uint8)
        rows.append(np.concatenate([images, blank]))
    return base.tile_grid(np.stack(rows), list(column), [str(i) for i in range(width)])
