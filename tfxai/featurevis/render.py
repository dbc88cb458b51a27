"""`render`: activation maximization, Lucid's recipe on a Keras model.

`render` checks its options (`tfxai.featurevis.options`), builds the initial image, and
runs the compiled step (`tfxai.featurevis.step`) `steps` times, then scores the result. The
step is kept in the package's cache (`tfxai.cache`): the next render with the same model,
objective structure and settings reuses it (only the variables are reset). `Renderer` is
the class twin that holds one step for repeated renders (the callback's epochs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import inputs
from tfxai.featurevis import options
from tfxai.featurevis import param as param_lib
from tfxai.featurevis import preprocessing as preprocessing_lib
from tfxai.featurevis import step as step_lib
from tfxai.featurevis.options import DEFAULT_SIZE, image_options  # noqa: F401 (re-exported)
from tfxai.targets import Target

PROGRESS_EVERY = 16  # steps between progress-bar updates
# The compiled steps, as kept in the package's one cache: `(owner, step)` pairs (read by
# tests and benchmarks/bench_featurevis.py).
_cache = cache_lib.View(cache_lib.RENDER_STEP, with_owner=True)


@dataclasses.dataclass(frozen=True)
class Rendering:
    """Result of `render`.

    Attributes:
        images: float32 `(B, H, W, C)` in [0, 1], the optimized images (`C`: the
            model's input channels, 3 when unknown).
        values: float64 `(B,)`, the objective of each image after the last step, scored
            on the images as they are (no transforms).
        snapshots: Dict `{step: float32 (B, H, W, C)}` at the requested `thresholds`.
        settings: JSON-friendly dict of the settings used.

    Example:
        >>> result = render(model, class_logit(0), steps=64, size=32)
        >>> result.images.shape, result.values.shape
        ((1, 32, 32, 3), (1,))
    """

    images: np.ndarray
    values: np.ndarray
    snapshots: dict
    settings: dict


def _compiled(model, key, image, build):
    """The cached `Step` for `key`, reset to `image`'s initial values, or `build()`'s."""
    compiled, hit = cache_lib.fetch(cache_lib.RENDER_STEP, model, key, build)
    if hit:
        compiled.reset(image)
    return compiled


def clear_cache() -> None:
    """Drops the compiled render steps (`tfxai.clear_cache` drops every cache)."""
    cache_lib.clear(cache_lib.RENDER_STEP)


def render(
    model: keras.Model,
    objective: Target,
    *,
    size: int | tuple[int, int] | None = None,
    steps: int = 512,
    batch: int | None = None,
    param: str | param_lib.Parameterization = "fft",
    decorrelate: bool | None = None,
    transforms: str | Callable[..., Any] | Sequence[Callable[..., Any]] | None = "standard",
    preprocessing: str | Callable[[tf.Tensor], tf.Tensor] | None = None,
    optimizer: keras.optimizers.Optimizer | None = None,
    seed: int = 0,
    thresholds: Sequence[int] = (),
    progress: bool = True,
    output: int | str | None = None,
    preprocess: str | Callable[[tf.Tensor], tf.Tensor] | None = None,
) -> Rendering:
    """Optimizes images to maximize `objective` (activation maximization).

    Lucid's recipe by default: FFT parameterization with 1/f scaling, decorrelated color,
    sigmoid to [0, 1], the standard transforms (pad 12, jitter 8, scale 0.9-1.1, rotate
    -10..10 degrees, jitter 4; fused into one resampling, `transforms.standard()`), Adam
    with learning rate 0.05. The images have the model's input channel count (3 when
    unknown; decorrelated color only with 3); the transformed images are resized to the
    model's input size (its fixed size, else `size`) and preprocessed. The model is only
    called: never changed, never cloned.

    Args:
        model: A Keras model (Sequential, Functional, nested, subclassed).
        objective: An objective from `tfxai.featurevis` (`channel`, `neuron`,
            `layer_energy`, `direction`, `class_logit`, `segmentation_class`,
            `diversity`, composed with `+ - * /` and regularizers) or any `Target`.
        size: Integer, `(H, W)` or `None` (default: the model's fixed input height and
            width, 128 for a side the model leaves open). Size of the optimized images;
            an integer gives square images.
        steps: Integer >= 0, default 512. Optimization steps.
        batch: Integer or `None` (default: the objective's own count, e.g. the length
            of a channel list, else 1). Images optimized together.
        param: String, default "fft". `"fft"` or `"pixel"`, or a
            `tfxai.featurevis.param.Parameterization` (then `size`, `batch`,
            `decorrelate` and `seed` come from it and nothing is cached).
        decorrelate: Boolean or `None` (default: True for 3-channel models, else
            False). Optimize in the decorrelated color space (3-channel models only).
        transforms: Default "standard". `"standard"`, `None`, a transform from
            `tfxai.featurevis.transforms` or a list of them (applied in order).
        preprocessing: Default `None` (the model takes images in [0, 1]). `"caffe"`
            (ResNet50, VGG), `"tf"` ([-1, 1]), `"torch"` (these three: 3-channel RGB
            models only) or a callable on `[0, 1]` images.
        optimizer: `None` (Adam, learning rate 0.05) or a `keras.optimizers.Optimizer`
            (a fresh copy of it is used; yours is not changed).
        seed: Integer >= 0, default 0. Seeds the initial image and every transform: the
            same seed gives the same images.
        thresholds: Sequence of step numbers at which to keep a snapshot.
        progress: Boolean, default True. Show a progress bar.
        output: Integer or string, default `None`. Output of a multi-output model.
        preprocess: The former spelling of `preprocessing` (deprecated).

    Returns:
        A `Rendering` with `images`, `values`, `snapshots` and `settings`.

    Raises:
        TypeError: On an objective, parameterization or optimizer of the wrong type.
        ValueError: On bad sizes, steps, batch, thresholds, unknown layers, an
            objective that does not fit the model (a channel out of range, say), or an
            RGB-only option (`decorrelate=True`, `preprocessing="caffe"`, ...) or a
            parameterization whose channel count differs from the model's input.

    Example:
        >>> model = keras.applications.ResNet50(weights=None)
        >>> result = tfxai.render(model, channel("conv4_block6_out", [0, 1, 2, 3]),
        ...                       preprocessing="caffe", steps=256)
        >>> tfxai.viz.image_grid(result.images[None])

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    inputs.check_model(model)
    inputs.expected_image_shape(model)  # refuses a model with several inputs
    progress = inputs.check_bool(progress, "progress")
    objective = options.check_objective(objective)
    steps = options.check_int(steps, "steps", 0)
    thresholds = options.check_thresholds(thresholds, steps)
    prep_option = preprocessing_lib.spelled(preprocessing, preprocess)
    image = options.initial_image(model, param, size, batch, objective, decorrelate, seed)
    transform, prep, names = _step_parts(model, image, transforms, prep_option, optimizer)
    key = (
        objective.key,
        image.shape,
        type(image).__name__,
        image.decorrelate,
        names["transforms"],
        names["preprocess"],
        names["optimizer"],
        output,
    )
    cacheable = not isinstance(param, param_lib.Parameterization) and (
        transforms is None or transforms == "standard"
    )

    def build():  # only on a cache miss: no optimizer made for nothing
        return step_lib.Step(model, objective, image, transform, prep, optimizer, output)

    compiled = _compiled(model, key, image, build) if cacheable else build()
    objective.check(compiled.shapes, image.shape[0])
    return _run(compiled, objective, image, steps, thresholds, progress, names)


def _step_parts(model, image, transforms, prep_option, optimizer):
    """`(transform, preprocess function, names)` for a step making images like `image`;
    `prep_option` is `(value, argument name)` from `preprocessing.spelled`."""
    transform, transform_name = options.transform_for(transforms, model, image.shape[1:3])
    prep, prep_name = preprocessing_lib.preprocessor(
        prep_option[0], image.shape[-1], prep_option[1]
    )
    names = {
        "transforms": transform_name,
        "preprocess": prep_name,
        "optimizer": options.optimizer_name(optimizer),
        "model": model.name,
    }
    return transform, prep, names


def _run(compiled, objective, image, steps, thresholds, progress, names):
    """Optimizes from `image`'s initial values; the `Rendering` with its settings."""
    params = tf.nest.map_structure(tf.constant, objective.bind(image.shape[0]))
    snapshots = _optimize(compiled, params, steps, image.seed, thresholds, progress)
    values, images = compiled.evaluate(params)
    settings = {
        "size": list(image.shape[1:3]),
        "steps": steps,
        "batch": image.shape[0],
        "param": type(image).__name__.lower(),
        "decorrelate": image.decorrelate,
        "transforms": names["transforms"],
        "preprocess": names["preprocess"],
        "optimizer": names["optimizer"],
        "seed": image.seed,
        "objective": objective.name,
        "model": names["model"],
    }
    return Rendering(images.numpy(), values.numpy().astype(np.float64), snapshots, settings)


class Renderer:
    """The class twin of `render`: one compiled optimization step, reused call after call.

    Builds (traces) the step once; every call starts from a fresh parameterization of the
    given seed and a fresh optimizer state, so a call gives the same images as `render`
    with the same settings, and the model's current weights are read at each call (the
    feature-visualization callback renders the same objectives epoch after epoch).

    Args:
        model: A Keras model; only called, never changed.
        objective: An objective from `tfxai.featurevis` or a `Target` on the outputs.
        size: As in `render`.
        batch: As in `render`.
        decorrelate: As in `render`.
        transforms: As in `render`.
        preprocessing: As in `render` (`preprocess`: its former spelling, deprecated).
        optimizer: As in `render`.
        output: As in `render`.
        param: String, default "fft". `"fft"` or `"pixel"`.

    Attributes:
        traces: Integer, how many optimization steps were compiled (1 after building).

    Raises:
        TypeError, ValueError: As `render`, when the step is built.

    Example:
        >>> renderer = Renderer(model, channel("block4_out", [0, 1]), size=64)
        >>> first = renderer(steps=64, seed=0)
        >>> again = renderer(steps=64, seed=0)  # no retrace, same images
    """

    def __init__(
        self,
        model: keras.Model,
        objective: Target,
        *,
        size: int | tuple[int, int] | None = None,
        batch: int | None = None,
        param: str = "fft",
        decorrelate: bool | None = None,
        transforms: str | Callable[..., Any] | Sequence[Callable[..., Any]] | None = "standard",
        preprocessing: str | Callable[[tf.Tensor], tf.Tensor] | None = None,
        optimizer: keras.optimizers.Optimizer | None = None,
        output: int | str | None = None,
        preprocess: str | Callable[[tf.Tensor], tf.Tensor] | None = None,
    ) -> None:
        if not isinstance(param, str):
            raise TypeError(
                f"param: Renderer takes 'fft' or 'pixel' (it makes a fresh "
                f"parameterization per call), got {type(param).__name__}."
            )
        prep_option = preprocessing_lib.spelled(preprocessing, preprocess)
        self.objective = options.check_objective(objective)
        size, _, decorrelate = options.image_options(model, size, decorrelate)
        self._image_options = (model, param, size, batch, decorrelate)
        image = options.initial_image(model, param, size, batch, self.objective, decorrelate, 0)
        transform, prep, self.names = _step_parts(model, image, transforms, prep_option, optimizer)
        self.step = step_lib.Step(model, self.objective, image, transform, prep, optimizer, output)
        self.objective.check(self.step.shapes, image.shape[0])
        self.traces = 1

    def __call__(
        self,
        *,
        steps: int = 512,
        seed: int = 0,
        thresholds: Sequence[int] = (),
        progress: bool = False,
    ) -> Rendering:
        """Renders from `seed`; returns a `Rendering` (see `render` for the arguments)."""
        steps = options.check_int(steps, "steps", 0)
        thresholds = options.check_thresholds(thresholds, steps)
        model, param, size, batch, decorrelate = self._image_options
        image = options.initial_image(model, param, size, batch, self.objective, decorrelate, seed)
        self.step.reset(image)
        return _run(self.step, self.objective, image, steps, thresholds, progress, self.names)


def _optimize(compiled, params, steps, seed, thresholds, progress):
    """Runs the steps; returns the snapshots at `thresholds`.

    Nothing is copied to the host between steps but the snapshots and, with `progress`,
    the objective shown every `PROGRESS_EVERY` steps.
    """
    bar = keras.utils.Progbar(steps) if progress and steps else None
    snapshots = {}
    for step in range(1, steps + 1):
        values = compiled.step(tf.constant([seed, step], tf.int64), params)
        if step in thresholds:
            snapshots[step] = compiled.image().numpy()
        if bar is not None and (step % PROGRESS_EVERY == 0 or step == steps):
            bar.update(step, [("objective", float(tf.reduce_mean(values)))])
    return snapshots
