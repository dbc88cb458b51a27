"""The one Keras backend tfxai runs on (TensorFlow), checked without importing TensorFlow.

`import tfxai` stays cheap (the API loads on first use), yet a wrong backend must fail at
import with the fix: `check_early` reads Keras' backend when Keras is already imported,
else the `KERAS_BACKEND` environment variable (which Keras itself gives precedence);
`tfxai.engine` checks Keras' answer again when it loads.
"""

from __future__ import annotations

import os
import sys


def check(backend: str) -> None:
    """Raises `ImportError` with the fix unless `backend` is "tensorflow"."""
    if backend != "tensorflow":
        raise ImportError(
            f"tfxai needs the TensorFlow backend of Keras 3, but keras.backend.backend() is "
            f"{backend!r}. Set the environment variable KERAS_BACKEND=tensorflow "
            f"before importing keras (e.g. `export KERAS_BACKEND=tensorflow`)."
        )


def check_early() -> None:
    """`check` on what is known without importing Keras or TensorFlow."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        check(keras.backend.backend())
    else:
        check(os.environ.get("KERAS_BACKEND", "tensorflow"))
