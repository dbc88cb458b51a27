"""Where the callbacks write: PNG files and TensorBoard summaries in one run folder.

A callback writes into `<log_dir>/<run>/`: its PNGs and one TensorBoard event file. With
the `log_dir` of `keras.callbacks.TensorBoard` (which writes `<log_dir>/train` and
`<log_dir>/validation`), one `tensorboard --logdir <log_dir>` shows the losses and the
explanations side by side, as runs of one experiment. Every PNG is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfxai import inputs, viz


def check_writable(folder: str | os.PathLike[str], name: str = "log_dir") -> Path:
    """Creates `folder` and checks that a file can be written in it
    (`tfxai.inputs.writable_folder`).

    Returns:
        The folder as a `Path`.

    Raises:
        ValueError: If the folder cannot be created or written (the cause is named).
    """
    return inputs.writable_folder(folder, name)


class RunWriter:
    """PNGs and TensorBoard summaries of one callback, in `<log_dir>/<run>/`.

    Args:
        folder: Path of the run folder (checked with `check_writable`).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._summary: Any = None

    def open(self) -> None:
        """Opens the TensorBoard event file (once per `fit`)."""
        if self._summary is None:
            self._summary = tf.summary.create_file_writer(str(self.folder))

    def png(self, name: str, image: np.ndarray) -> str | os.PathLike[str]:
        """Writes a uint8 RGB image to `<folder>/<name>` atomically; returns its path."""
        return viz.save_png(self.folder / name, image)

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """A TensorBoard image summary of one uint8 `(H, W, 3)` image."""
        if self._summary is not None:
            with self._summary.as_default():
                tf.summary.image(tag, np.asarray(image, np.uint8)[None], step=int(step))

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """TensorBoard scalar summaries `{tag: float}` at `step`."""
        if self._summary is not None:
            with self._summary.as_default():
                for tag, value in values.items():
                    tf.summary.scalar(tag, float(value), step=int(step))

    def flush(self) -> None:
        if self._summary is not None:
            self._summary.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        if self._summary is not None:
            self._summary.close()
            self._summary = None


def run_folder(log_dir: str | os.PathLike[str], run: str) -> Path:
    """`<log_dir>/<run>`, with `run` checked to be one plain folder name."""
    if not isinstance(run, str) or not run or os.sep in run or run in (".", ".."):
        raise ValueError(f"run: expected a plain folder name such as 'grad_cam', got {run!r}.")
    return check_writable(Path(log_dir) / run, "log_dir")
