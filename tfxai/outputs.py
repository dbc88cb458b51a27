"""Output selection: which output of a (possibly multi-output) model the targets score."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


def select_output(outputs: Any, output: int | str | None, model_name: str = "model") -> tf.Tensor:
    """Picks one output of a (possibly multi-output) model.

    Args:
        outputs: What the model returned: a tensor, a list/tuple or a dict.
        output: Integer index or string name/key, or `None` for a single-output model.
        model_name: String, used in error messages.

    Returns:
        A tensor.

    Raises:
        ValueError: For a multi-output model without `output=`, or an unknown output.
    """
    if isinstance(outputs, dict):
        names = list(outputs)
        if output is None and len(names) == 1:
            return outputs[names[0]]
        if output in outputs:
            return outputs[output]
        if isinstance(output, int) and -len(names) <= output < len(names):
            return outputs[names[output]]
        raise ValueError(
            f"output: model {model_name!r} has outputs {names}; pass output= "
            f"one of these names or an index, got {output!r}."
        )
    if isinstance(outputs, (list, tuple)):
        if output is None and len(outputs) == 1:
            return outputs[0]
        if isinstance(output, int) and -len(outputs) <= output < len(outputs):
            return outputs[output]
        raise ValueError(
            f"output: model {model_name!r} has {len(outputs)} outputs; pass "
            f"output= an index in [0, {len(outputs) - 1}], got {output!r}."
        )
    if output not in (None, 0, -1):
        raise ValueError(
            f"output: model {model_name!r} has a single output; got output={output!r}."
        )
    return outputs


def output_index(model: keras.Model, output: int | str | None) -> int | str | None:
    """Turns an output name of a Functional model into its index.

    Args:
        model: A Keras model.
        output: Integer index, string name or `None`.

    Returns:
        The index for a name of a Functional model's list of outputs, else `output` as given
        (dict outputs keep their names).

    Raises:
        ValueError: For a name the model does not have.
    """
    if isinstance(output, str) and not isinstance(getattr(model, "output", None), dict):
        names = list(getattr(model, "output_names", None) or [])
        if output in names:
            return names.index(output)
        if not names:
            raise ValueError(
                f"output: model {model.name!r} has no named outputs; got "
                f"{output!r} (pass None for a single output, or an index)."
            )
        raise ValueError(f"output: model {model.name!r} has outputs {names}; got {output!r}.")
    return output
