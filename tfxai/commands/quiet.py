"""Importing TensorFlow without its start-up log lines in the user's terminal."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

#: The C++ log level the command line asks for: 3 hides TensorFlow's INFO, WARNING and
#: ERROR log lines (oneDNN, CUDA probing); Python errors still surface as exceptions.
LOG_LEVEL = "3"

#: TensorFlow's start-up lines that its log level does not reach: they are written while
#: its shared libraries load, before absl's logging is set up. Any other line is kept.
_START_UP_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


@contextlib.contextmanager
def _start_up_lines_dropped() -> Iterator[None]:
    """Sends file descriptor 2 to a temporary file, then writes back what is not start-up
    noise (a failing import still shows its own lines)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines() if not _START_UP_LINE.match(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def import_tensorflow() -> ModuleType:
    """Imports TensorFlow (and Keras) with the start-up logs quietened, and returns it.

    Only when TensorFlow is not imported yet and the user has not set
    `TF_CPP_MIN_LOG_LEVEL` (their value wins): the variable is set for this process, the
    lines TensorFlow writes while its libraries load are dropped (others are written
    back), and the Python-side loggers (absl, `tf.get_logger()`) show errors only.
    Nothing else changes.

    Returns:
        The `tensorflow` module.
    """
    ours = "tensorflow" not in sys.modules and "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if not ours:
        import tensorflow as tf

        return tf
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = LOG_LEVEL
    with _start_up_lines_dropped():
        import keras  # noqa: F401  (loads the rest of TensorFlow's libraries)
        import tensorflow as tf
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # absl comes with TensorFlow; be safe anyway
        pass
    tf.get_logger().setLevel("ERROR")
    return tf
