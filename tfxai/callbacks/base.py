"""The shared life of the tfxai callbacks: when to log, how to fail, the timeline.

A callback checks its arguments when it is built and, at `on_train_begin`, builds its
explainer on the model being trained and runs it once: a bad layer, method, target or
input shape fails there, before epoch 1. From then on it logs every `freq` epochs (epoch
indices 0, freq, 2 freq, ...: the first epoch is always logged) and, with `batch_freq`,
every `batch_freq` training batches. An exception while logging becomes ONE warning naming
the callback, the epoch and the cause, and training goes on. The explainer is built once
per `fit`: later epochs reuse its compiled graphs (the weights change, the graph does not).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from tfxai import viz
from tfxai.callbacks import writer as writer_lib
from tfxai.inputs import positive_int


def evenly_spaced(count: int, most: int) -> list[int]:
    """Indices of at most `most` of `count` items, evenly spaced, first and last kept."""
    if count <= most:
        return list(range(count))
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, most)})


class LoggingCallback(keras.callbacks.Callback):
    """Base class of the tfxai callbacks (subclasses implement `prepare`, `compute`, `write`).

    Args:
        freq: Integer, default 1. Log every `freq` epochs (epochs 1, 1 + freq, ...).
        batch_freq: Integer or `None` (default). Also log every `batch_freq` batches.
        log_dir: String or path, default "logs" (as `keras.callbacks.TensorBoard`); `None`
            writes nothing to disk. Files go to `<log_dir>/<run>/`.
        run: String or `None` (default: the callback's own name). The run folder.
        timeline_columns: Integer, default 12. Most columns of the timeline image (the
            logged epochs are thinned evenly, first and last kept).
    """

    default_run = "tfxai"
    keeps_start = True  # the check at on_train_begin is the timeline's first column

    def __init__(
        self,
        *,
        freq: int = 1,
        batch_freq: int | None = None,
        log_dir: str | os.PathLike[str] | None = "logs",
        run: str | None = None,
        timeline_columns: int = 12,
    ) -> None:
        super().__init__()
        self.freq = positive_int(freq, "freq")
        self.batch_freq = None if batch_freq is None else positive_int(batch_freq, "batch_freq")
        self.timeline_columns = positive_int(timeline_columns, "timeline_columns")
        if (
            log_dir is not None
            and not isinstance(log_dir, (str, bytes))
            and not hasattr(log_dir, "__fspath__")
        ):
            raise TypeError(
                f"log_dir: expected a folder path or None, got {type(log_dir).__name__}."
            )
        folder = (
            None if log_dir is None else writer_lib.run_folder(log_dir, run or self.default_run)
        )
        self.writer = None if folder is None else writer_lib.RunWriter(folder)
        self.timeline: list[tuple[str, Any]] = []  # [(label, column)] of this fit
        self.warnings: list[str] = []  # messages of the failures of this fit
        self._batches = 0

    # ------------------------------------------------------------------ to implement

    def prepare(self) -> None:
        """Builds the explainer on `self.model` (once per fit)."""
        raise NotImplementedError

    def compute(self) -> Any:
        """One log point's data (a 'column'); raises on failure."""
        raise NotImplementedError

    def write(
        self, column: Any, name: str, label: str, step: int, logs: dict[str, Any] | None = None
    ) -> None:
        """Writes one column: PNG `<name>.png`, TensorBoard at `step`, `logs` if any."""
        raise NotImplementedError

    def timeline_images(
        self, labels: Sequence[str], columns: Sequence[Any]
    ) -> dict[str, np.ndarray]:
        """`{file stem: uint8 image}` of the timeline(s) for these columns."""
        return {}

    # ------------------------------------------------------------------ Keras hooks

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.timeline, self.warnings, self._batches = [], [], 0
        try:
            self.prepare()
            column = self.compute()
        except Exception as err:
            err.add_note(f"(raised by {type(self).__name__} at on_train_begin, before epoch 1)")
            raise
        if self.keeps_start and column is not None:
            self.timeline.append(("start", column))
        if self.writer is not None:
            self.writer.open()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch % self.freq:
            return

        def log() -> None:
            column = self.compute()
            self.write(column, f"epoch_{epoch + 1:04d}", f"epoch {epoch + 1}", epoch, logs)
            self.timeline.append((f"epoch {epoch + 1}", column))

        self._safely(f"epoch {epoch + 1}", log)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        if self.batch_freq is None or self._batches % self.batch_freq:
            return
        count = self._batches
        self._safely(
            f"batch {count}",
            lambda: self.write(self.compute(), f"batch_{count:07d}", f"batch {count}", count),
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._safely("the end of training", self._write_timeline)
        if self.writer is not None:
            self.writer.close()

    # ------------------------------------------------------------------ helpers

    def _safely(self, where: str, fn: Callable[[], Any]) -> None:
        """Runs `fn`; an exception becomes one warning and training goes on."""
        try:
            fn()
        except Exception as err:  # never stop training
            message = (
                f"{type(self).__name__} skipped {where}: {type(err).__name__}: "
                f"{err} (training goes on)."
            )
            self.warnings.append(message)
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _write_timeline(self) -> None:
        if self.writer is None or len(self.timeline) < 1:
            return
        chosen = [
            self.timeline[i] for i in evenly_spaced(len(self.timeline), self.timeline_columns)
        ]
        labels = [label for label, _ in chosen]
        for stem, image in self.timeline_images(labels, [c for _, c in chosen]).items():
            self.writer.png(f"{stem}.png", image)
            self.writer.image(
                f"{self.writer.folder.name}/{stem}", image, step=len(self.timeline) - 1
            )
        self.writer.flush()


def tile_grid(
    tiles: Any, row_labels: Sequence[str] | None, col_labels: Sequence[str] | None
) -> np.ndarray:
    """`viz.image_grid` of `(rows, cols, H, W, 3)` uint8 tiles."""
    return viz.image_grid(np.asarray(tiles, np.uint8), row_labels=row_labels, col_labels=col_labels)
