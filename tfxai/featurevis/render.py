"""`render`: activation maximization, Lucid's recipe on a Keras model.

Each step: the parameterization builds images in [0, 1] with the model's channel count,
the transforms jitter, scale and rotate them (seeded by `(seed, step)`), the result is
resized to the model's input size and preprocessed, the model runs once with the
objective's layers captured (their `call` shadowed only while the step is traced, as in
`tfxai.engine`), and the optimizer takes one step up the objective. The step is one
compiled graph, and so is the final scoring; the next render with the same model,
objective structure and settings reuses both (only the variables are reset).
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from tfxai import cache as cache_lib
from tfxai import engine as engine_lib
from tfxai import inputs, targets
from tfxai.featurevis import objectives as objectives_lib
from tfxai.featurevis import param as param_lib
from tfxai.featurevis import preprocessing
from tfxai.featurevis import transforms as transforms_lib

DEFAULT_SIZE = 128  # image side when the model's input size is not fixed
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
    """

    images: np.ndarray
    values: np.ndarray
    snapshots: dict
    settings: dict


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}.")
    return int(value)


def _check_objective(objective):
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


def _check_thresholds(thresholds, steps):
    values = sorted({_check_int(t, "thresholds", 1) for t in (thresholds or ())})
    if values and values[-1] > steps:
        raise ValueError(f"thresholds: step {values[-1]} is beyond steps={steps}.")
    return tuple(values)


def _transform(transforms, model, size):
    if transforms == "standard":  # fused, resampled straight to the model's input size
        output_size = _input_size(model, inputs.int_pair(size, "size"))
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


def _optimizer_name(optimizer):
    """The settings name of an `optimizer` option (its type and config); checks the type."""
    if optimizer is None:
        return "adam(0.05)"
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return f"{type(optimizer).__name__}({optimizer.get_config()})"
    raise TypeError(
        f"optimizer: expected None (Adam, learning rate 0.05) or a "
        f"keras.optimizers.Optimizer, got {type(optimizer).__name__}."
    )


def _fresh_optimizer(optimizer):
    """A new optimizer for a compiled step: Adam(0.05), or a copy of the user's."""
    if optimizer is None:
        return keras.optimizers.Adam(learning_rate=0.05)
    return type(optimizer).from_config(optimizer.get_config())


def _input_size(model, size):
    """The model's fixed input `(H, W)` (functional and sequential models), else `size`."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) == 4 and shape[1] and shape[2]:
        return int(shape[1]), int(shape[2])
    return size


def _model_input(model):
    """`(height, width, channels)` of the model's image input, each an int or `None`."""
    shape = engine_lib._model_input_shape(model)
    if shape is None or len(shape) != 4:
        return None, None, None
    return tuple(int(d) if d else None for d in shape[1:])


def _check_decorrelate(decorrelate, channels, model):
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


def image_options(model, size=None, decorrelate=None):
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
    height, width, channels = _model_input(model)
    if size is None:
        size = (height or DEFAULT_SIZE, width or DEFAULT_SIZE)
    size = inputs.int_pair(size, "size")
    channels = channels or 3
    return size, channels, _check_decorrelate(decorrelate, channels, model)


class _Step:
    """The compiled optimization step, the scoring and their state for one structure.

    Attributes:
        step: Concrete function `(seed, params) -> values`: one optimization step, its
            transforms seeded by the int64 pair `seed` (`[render seed, step]`).
        evaluate: Concrete function `(params) -> (values, images)`: the objective on the
            current images, untransformed.
        shapes: The logits and captured layer shapes seen while tracing.
    """

    def __init__(self, model, objective, image, transform, preprocess, optimizer, output):
        self.image, self.optimizer = image, optimizer
        self.layers = {
            objectives_lib.layer_key(ref): engine_lib.resolve_layer(model, ref)
            for ref in objective.layers
        }
        self.input_size = _input_size(model, image.shape[1:3])
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
            return objectives_lib.Context(acts, tf.cast(logits, tf.float32), images)

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

    def reset(self, image):
        """Loads the variables of a fresh parameterization and a fresh optimizer state."""
        for variable, value in zip(self.image.variables, image.variables):
            variable.assign(value)
        for variable, value in zip(self.optimizer.variables, self.initial):
            variable.assign(value)


def _compiled(model, key, image, build):
    """The cached `_Step` for `key`, reset to `image`'s initial values, or `build()`'s."""
    compiled, hit = cache_lib.fetch(cache_lib.RENDER_STEP, model, key, build)
    if hit:
        compiled.reset(image)
    return compiled


def clear_cache():
    """Drops the compiled render steps (`tfxai.clear_cache` drops every cache)."""
    cache_lib.clear(cache_lib.RENDER_STEP)


def render(
    model,
    objective,
    *,
    size=None,
    steps=512,
    batch=None,
    param="fft",
    decorrelate=None,
    transforms="standard",
    preprocess=None,
    optimizer=None,
    seed=0,
    thresholds=(),
    progress=True,
    output=None,
):
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
        preprocess: Default `None` (the model takes images in [0, 1]). `"caffe"`
            (ResNet50, VGG), `"tf"` ([-1, 1]), `"torch"` (these three: 3-channel RGB
            models only) or a callable on `[0, 1]` images.
        optimizer: `None` (Adam, learning rate 0.05) or a `keras.optimizers.Optimizer`
            (a fresh copy of it is used; yours is not changed).
        seed: Integer >= 0, default 0. Seeds the initial image and every transform: the
            same seed gives the same images.
        thresholds: Sequence of step numbers at which to keep a snapshot.
        progress: Boolean, default True. Show a progress bar.
        output: Integer or string, default `None`. Output of a multi-output model.

    Returns:
        A `Rendering` with `images`, `values`, `snapshots` and `settings`.

    Raises:
        TypeError: On an objective, parameterization or optimizer of the wrong type.
        ValueError: On bad sizes, steps, batch, thresholds, unknown layers, an
            objective that does not fit the model (a channel out of range, say), or an
            RGB-only option (`decorrelate=True`, `preprocess="caffe"`, ...) or a
            parameterization whose channel count differs from the model's input.

    Example:
        >>> model = keras.applications.ResNet50(weights=None)
        >>> result = tfxai.render(model, channel("conv4_block6_out", [0, 1, 2, 3]),
        ...                       preprocess="caffe", steps=256)
        >>> tfxai.viz.image_grid(result.images[None])

    Reference:
        Olah et al., "Feature Visualization", Distill 2017.
        https://distill.pub/2017/feature-visualization/
    """
    inputs.check_model(model)
    progress = inputs.check_bool(progress, "progress")
    objective = _check_objective(objective)
    steps = _check_int(steps, "steps", 0)
    thresholds = _check_thresholds(thresholds, steps)
    image = _image(model, param, size, batch, objective, decorrelate, seed)
    transform, transform_name = _transform(transforms, model, image.shape[1:3])
    prep, prep_name = preprocessing.preprocessor(preprocess, image.shape[-1])
    opt_name = _optimizer_name(optimizer)
    key = (
        objective.key,
        image.shape,
        type(image).__name__,
        image.decorrelate,
        transform_name,
        prep_name,
        opt_name,
        output,
    )
    cacheable = not isinstance(param, param_lib.Parameterization) and (
        transforms is None or transforms == "standard"
    )

    def build():  # only on a cache miss: no optimizer made for nothing
        return _Step(model, objective, image, transform, prep, _fresh_optimizer(optimizer), output)

    compiled = _compiled(model, key, image, build) if cacheable else build()
    objective.check(compiled.shapes, image.shape[0])
    return _run(
        compiled,
        objective,
        image,
        steps,
        thresholds,
        progress,
        {
            "transforms": transform_name,
            "preprocess": prep_name,
            "optimizer": opt_name,
            "model": model.name,
        },
    )


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
        size, batch, decorrelate, transforms, preprocess, optimizer, output: As in
            `render`.
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
        model,
        objective,
        *,
        size=None,
        batch=None,
        param="fft",
        decorrelate=None,
        transforms="standard",
        preprocess=None,
        optimizer=None,
        output=None,
    ):
        if not isinstance(param, str):
            raise TypeError(
                f"param: Renderer takes 'fft' or 'pixel' (it makes a fresh "
                f"parameterization per call), got {type(param).__name__}."
            )
        self.objective = _check_objective(objective)
        size, _, decorrelate = image_options(model, size, decorrelate)
        self._image_options = (model, param, size, batch, decorrelate)
        image = _image(model, param, size, batch, self.objective, decorrelate, 0)
        transform, transform_name = _transform(transforms, model, image.shape[1:3])
        prep, prep_name = preprocessing.preprocessor(preprocess, image.shape[-1])
        opt_name = _optimizer_name(optimizer)
        self.step = _Step(
            model, self.objective, image, transform, prep, _fresh_optimizer(optimizer), output
        )
        self.objective.check(self.step.shapes, image.shape[0])
        self.names = {
            "transforms": transform_name,
            "preprocess": prep_name,
            "optimizer": opt_name,
            "model": model.name,
        }
        self.traces = 1

    def __call__(self, *, steps=512, seed=0, thresholds=(), progress=False):
        """Renders from `seed`; returns a `Rendering` (see `render` for the arguments)."""
        steps = _check_int(steps, "steps", 0)
        thresholds = _check_thresholds(thresholds, steps)
        model, param, size, batch, decorrelate = self._image_options
        image = _image(model, param, size, batch, self.objective, decorrelate, seed)
        self.step.reset(image)
        return _run(self.step, self.objective, image, steps, thresholds, progress, self.names)


def _image(model, param, size, batch, objective, decorrelate, seed):
    """The parameterization: built from the options for `model`, or the one given."""
    if isinstance(param, param_lib.Parameterization):
        channels = _model_input(model)[2] or 3
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
