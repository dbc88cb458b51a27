"""The options of `render` and `Renderer`, checked and turned into their parts.

Each check names the argument, what was given and what is expected. `image_options` says
which image size, channel count and color decorrelation a model gets; `initial_image`
builds the parameterization; `transform_for` and `optimizer_name` / `fresh_optimizer`
turn the `transforms` and `optimizer` options into what the compiled step uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from tfxai import engine as engine_lib
from tfxai import inputs, targets
from tfxai.featurevis import param as param_lib
from tfxai.featurevis import transforms as transforms_lib
from tfxai.featurevis.step import input_size
from tfxai.targets import Target

DEFAULT_SIZE = 128  # image side when the model's input size is not fixed


def check_int(value: int, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}.")
    return int(value)


def check_objective(objective: Target) -> Target:
    """The objective, a model-output `Target` (`class_score`, ...) adapted to the logits."""
    if not isinstance(objective, targets.Target):
        raise TypeError(
            f"objective: expected an objective from tfxai.featurevis (channel, "
            f"class_logit, ...) or a Target, got {type(objective).__name__}."
        )
    if objective.reads == "context":
        return objective
    return targets.Target(
        lambda ctx, p: objective.score(ctx.logits, p),
        objective.bind,
        key=("logits", objective.key),
        name=objective.name,
        batch=objective.batch,
        check_fn=lambda shapes, batch: objective.check(shapes["logits"], batch),
        reads="context",
    )


def check_thresholds(thresholds: Sequence[int] | None, steps: int) -> tuple[int, ...]:
    values = sorted({check_int(t, "thresholds", 1) for t in (thresholds or ())})
    if values and values[-1] > steps:
        raise ValueError(f"thresholds: step {values[-1]} is beyond steps={steps}.")
    return tuple(values)


def transform_for(
    transforms: str | Callable[..., Any] | Sequence[Callable[..., Any]] | None,
    model: keras.Model,
    size: int | tuple[int, int],
) -> tuple[Callable[..., Any] | None, str]:
    if transforms == "standard":  # fused, resampled straight to the model's input size
        output_size = input_size(model, inputs.int_pair(size, "size"))
        return transforms_lib.standard(output_size=output_size), "standard"
    if transforms is None:
        return None, "none"
    if isinstance(transforms, (list, tuple)):
        return transforms_lib.compose(*transforms), repr(transforms)
    if callable(transforms):
        return transforms, repr(transforms)
    raise ValueError(
        f"transforms: expected 'standard', None, a transform or a list of them, got {transforms!r}."
    )


def optimizer_name(optimizer: keras.optimizers.Optimizer | None) -> str:
    """The settings name of an `optimizer` option (its type and config); checks the type."""
    if optimizer is None:
        return "adam(0.05)"
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return f"{type(optimizer).__name__}({optimizer.get_config()})"
    raise TypeError(
        f"optimizer: expected None (Adam, learning rate 0.05) or a "
        f"keras.optimizers.Optimizer, got {type(optimizer).__name__}."
    )


def model_input(model: keras.Model) -> tuple[int | None, ...]:
    """`(height, width, channels)` of the model's image input, each an int or `None`."""
    shape = engine_lib._model_input_shape(model)
    if shape is None or len(shape) != 4:
        return None, None, None
    return tuple(int(d) if d else None for d in shape[1:])


def check_decorrelate(decorrelate: bool | None, channels: int, model: keras.Model) -> bool:
    if decorrelate is None:
        return channels == 3
    if not isinstance(decorrelate, (bool, np.bool_)):
        raise TypeError(
            f"decorrelate: expected None (automatic), True or False, got {decorrelate!r}."
        )
    if decorrelate and channels != 3:
        raise ValueError(
            f"decorrelate: got True, but color decorrelation needs a 3-channel "
            f"(RGB) model and model {model.name!r} takes {channels} "
            f"channel(s); expected None (automatic) or False."
        )
    return bool(decorrelate)


def image_options(
    model: keras.Model,
    size: int | tuple[int, int] | None = None,
    decorrelate: bool | None = None,
) -> tuple[tuple[int, int], int, bool]:
    """The image size, channel count and color decorrelation `render` uses for `model`.

    Args:
        model: A Keras model; its input shape `(B, H, W, C)` is read when known.
        size: Integer, `(H, W)` or `None` (default: the model's fixed input height and
            width, `DEFAULT_SIZE` (128) for a side the model leaves open).
        decorrelate: Boolean or `None` (default: True for 3-channel models, else False).

    Returns:
        `((height, width), channels, decorrelate)`; `channels` is the model's input
        channel count, 3 when unknown.

    Raises:
        ValueError: On a bad `size`, or `decorrelate=True` for a model whose input does
            not have 3 channels.
        TypeError: If `decorrelate` is not None or a boolean.

    Example:
        >>> model = keras.Sequential([keras.Input((48, 80, 1)), keras.layers.Conv2D(4, 3)])
        >>> image_options(model)
        ((48, 80), 1, False)
    """
    height, width, channels = model_input(model)
    if size is None:
        size = (height or DEFAULT_SIZE, width or DEFAULT_SIZE)
    pair: tuple[int, int] = inputs.int_pair(size, "size")
    channels = channels or 3
    return pair, channels, check_decorrelate(decorrelate, channels, model)


def initial_image(
    model: keras.Model,
    param: str | param_lib.Parameterization,
    size: int | tuple[int, int] | None,
    batch: int | None,
    objective: Target,
    decorrelate: bool | None,
    seed: int,
) -> param_lib.Parameterization:
    """The parameterization: built from the options for `model`, or the one given."""
    if isinstance(param, param_lib.Parameterization):
        channels = model_input(model)[2] or 3
        if param.shape[-1] != channels:
            raise ValueError(
                f"param: the parameterization makes {param.shape[-1]}-channel "
                f"images; model {model.name!r} takes {channels} channel(s); "
                f"expected a Parameterization with channels={channels}."
            )
        if objective.batch is not None and objective.batch != param.shape[0]:
            raise ValueError(
                f"param: has a batch of {param.shape[0]} images; the "
                f"objective has parameters for {objective.batch}."
            )
        return param
    size, channels, decorrelate = image_options(model, size, decorrelate)
    if batch is None:
        batch = objective.batch or 1
    elif objective.batch is not None and batch != objective.batch:
        raise ValueError(
            f"batch: got {batch!r}; the objective has parameters for "
            f"{objective.batch} images (leave batch=None)."
        )
    return param_lib.image(
        size, batch, param=param, decorrelate=decorrelate, channels=channels, seed=seed
    )
