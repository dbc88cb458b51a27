"""The compiled step of feature visualization: one optimization step and the scoring.

Each step: the parameterization builds images in [0, 1] with the model's channel count,
the transforms jitter, scale and rotate them (seeded by `(seed, step)`), the result is
resized to the model's input size and preprocessed, the model runs once with the
objective's layers captured (their `call` shadowed only while the step is traced, as in
`tfxai.engine`), and the optimizer takes one step up the objective. `reset` loads fresh
variables, so one traced step serves every render with the same structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from tfxai import engine as engine_lib
from tfxai.featurevis import objectives as objectives_lib
from tfxai.featurevis.param import Parameterization
from tfxai.targets import Target


def input_size(model: keras.Model, size: tuple[int, int]) -> tuple[int, int]:
    """The model's fixed input `(H, W)` (functional and sequential models), else `size`."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 4 and shape[1] and shape[2]:
        return int(shape[1]), int(shape[2])
    return size


def fresh_optimizer(
    optimizer: keras.optimizers.Optimizer | None,
) -> keras.optimizers.Optimizer:
    """A new optimizer for a compiled step: Adam(0.05), or a copy of the user's."""
    if optimizer is None:
        return keras.optimizers.Adam(learning_rate=0.05)
    return type(optimizer).from_config(optimizer.get_config())


class Step:
    """The compiled optimization step, the scoring and their state for one structure.

    Attributes:
        step: Concrete function `(seed, params) -> values`: one optimization step, its
            transforms seeded by the int64 pair `seed` (`[render seed, step]`).
        evaluate: Concrete function `(params) -> (values, images)`: the objective on the
            current images, untransformed.
        shapes: The logits and captured layer shapes seen while tracing.
    """

    def __init__(
        self,
        model: keras.Model,
        objective: Target,
        image: Parameterization,
        transform: Callable[..., Any] | None,
        preprocess: Callable[[tf.Tensor], tf.Tensor],
        optimizer: keras.optimizers.Optimizer | None,
        output: int | str | None,
    ) -> None:
        self.image, self.optimizer = image, fresh_optimizer(optimizer)
        self.layers = {
            objectives_lib.layer_key(ref): engine_lib.resolve_layer(model, ref)
            for ref in objective.layers
        }
        self.input_size = input_size(model, image.shape[1:3])
        self.preprocess = preprocess
        self.optimizer.build(self.image.variables)
        self.initial = [v.numpy() for v in self.optimizer.variables]
        self.shapes = None
        params = objective.bind(image.shape[0])
        spec = tf.nest.map_structure(lambda a: tf.TensorSpec(a.shape, a.dtype), params)
        captured = {}

        def on_output(layer, value):
            captured[id(layer)] = value
            return value

        def context(images, seed, transform):
            x = images if transform is None else transform(images, seed)
            if tuple(x.shape[1:3]) != tuple(self.input_size):
                x = tf.image.resize(x, self.input_size)
            with engine_lib.float_pixels(model, self.preprocess(x)) as fed:
                out = model(fed, training=False)
            logits = engine_lib.to_logits(engine_lib.select_output(out, output, model.name))
            acts = {key: captured[id(layer)] for key, layer in self.layers.items()}
            self.shapes = {
                "logits": tuple(logits.shape),
                "layers": {k: tuple(v.shape) for k, v in acts.items()},
            }
            objective.check(self.shapes, image.shape[0])  # before scoring: clear errors
            return objectives_lib.Context(
                acts, tf.cast(logits, tf.float32), images, self.input_size
            )

        def step(seed, p):
            with tf.GradientTape() as tape:
                values = objective.score(context(self.image(), seed, transform), p)
                loss = -tf.reduce_sum(values)
            grads = tape.gradient(loss, self.image.variables)
            self.optimizer.apply_gradients(zip(grads, self.image.variables))
            return values

        def evaluate(p):
            images = self.image()
            return objective.score(context(images, None, None), p), images

        with engine_lib.shadow_calls(list(self.layers.values()), on_output):
            self.step = tf.function(step, autograph=False).get_concrete_function(
                tf.TensorSpec([2], tf.int64), spec
            )
            self.evaluate = tf.function(evaluate, autograph=False).get_concrete_function(spec)

    def reset(self, image: Parameterization) -> None:
        """Loads the variables of a fresh parameterization and a fresh optimizer state."""
        for variable, value in zip(self.image.variables, image.variables):
            variable.assign(value)
        for variable, value in zip(self.optimizer.variables, self.initial):
            variable.assign(value)
