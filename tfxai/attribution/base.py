"""Shared machinery of the attribution methods: batching, compiled row passes, reduction.

Every attribution method evaluates the model on *rows*: copies of the input images, each
possibly altered (a noisy copy, a point on an integration path, an occluded or masked
copy). Rows are grouped in *units*, consecutive rows whose results add up to one value
(the path points of one Integrated Gradients attribution; a unit is a single row for
plain gradients). `Attribution.run_rows` feeds the rows to one compiled graph in chunks of
`batch_size`, so every image's copies share batched passes, and hands back each unit's
sum once it is complete, even when a unit spans two chunks.

The images go in once per batch as a tensor; each chunk only carries small per-row
arrays (which image, which path point, which mask...), and the copies are built inside
the graph. The model is never cloned and never changed.
"""

import numpy as np
import tensorflow as tf

from tfxai import batches as batches_lib
from tfxai import engine as engine_lib
from tfxai import inputs as inputs_lib
from tfxai import targets as targets_lib
from tfxai.cam import base as cam_base
from tfxai.inputs import check_seed, int_pair, non_negative_float, positive_int  # noqa: F401 (re-exported)

REDUCTIONS = ("max", "mean", "sum", "norm")
normalize_maps = cam_base.normalize_maps
finite_maps = cam_base.finite_maps
as_tensors = cam_base.as_tensors


# --------------------------------------------------------------------------- checks


def check_reduction(reduce, keep_sign):
    """Checks the channel reduction options."""
    if reduce not in REDUCTIONS:
        raise ValueError(
            f"reduce: expected one of {', '.join(map(repr, REDUCTIONS))}, got {reduce!r}."
        )
    return reduce, inputs_lib.check_bool(keep_sign, "keep_sign")


# --------------------------------------------------------------------------- maps


def reduce_channels(attributions, reduce="max", keep_sign=False):
    """Turns per-channel attributions `(B, H, W, C)` into maps `(B, H, W)` float32.

    Args:
        attributions: Array `(B, H, W, C)`.
        reduce: String, default "max". `"max"`, `"mean"`, `"sum"` over the channels, or
            `"norm"` (their Euclidean norm).
        keep_sign: Boolean, default False. When False the absolute values are reduced.

    Returns:
        float32 numpy array `(B, H, W)`.
    """
    values = np.asarray(attributions, dtype=np.float32)
    if not keep_sign:
        values = np.abs(values)
    if reduce == "max":
        return values.max(axis=-1)
    if reduce == "mean":
        return values.mean(axis=-1)
    if reduce == "sum":
        return values.sum(axis=-1)
    return np.sqrt(np.square(values).sum(axis=-1))


# --------------------------------------------------------------------------- base class


class Attribution:
    """Base class of the attribution explainers: the engine, input handling, row passes.

    Subclasses implement `explain_batch`; the gradient methods derive from
    `tfxai.attribution.gradients.GradientAttribution`.

    Args:
        model: A Keras model (Sequential, Functional, nested or subclassed). Never changed.
        output: Integer or string, default `None`. Which output of a multi-output model.
        logits: Boolean, default `True`. Score the logits behind a softmax/sigmoid output.

    Attributes:
        engine: The `tfxai.engine.Engine` (without layer capture); `engine.traces` counts
            the graphs traced so far.
    """

    # Methods that evaluate the model away from the input (noise, paths, occlusion, masks)
    # explain a FIXED class: `target=None` becomes the class predicted on the clean image.
    perturbs = False
    # Options of `__call__` besides `batch_size` and `normalize` (the function forms pass
    # them to the call rather than to the constructor).
    call_options = ()

    def __init__(self, model, *, output=None, logits=True):
        inputs_lib.check_model(model)
        self.engine = engine_lib.Engine(
            model, output=output, capture=False, logits=inputs_lib.check_bool(logits, "logits")
        )

    @property
    def model(self):
        return self.engine.model

    def __repr__(self):
        return f"{type(self).__name__}(model={self.model.name!r})"

    def __call__(self, inputs, target=None, *, batch_size=32, normalize=True):
        """Explains `inputs` for `target`.

        Args:
            inputs: Images `(B, H, W, C)` as numpy, `tf.Tensor`, or a `tf.data.Dataset` of
                such batches (elements `x` or `(x, y)`).
            target: `None` (predicted class), int, list of ints (one per sample; with a
                dataset, one per image of the whole dataset), `"labels"` (each dataset
                element's `y`), callable on the output logits, or a `tfxai.targets.Target`.
            batch_size: Integer, default 32. Model evaluations (images, noisy copies, path
                points, occluded or masked copies) per compiled pass.
            normalize: Boolean, default True. Scale each map to [0, 1].

        Returns:
            float32 numpy array `(B, H, W)`.
        """
        normalize = inputs_lib.check_bool(normalize, "normalize")
        (maps,) = self.collect(inputs, target, batch_size, self.explain_batch)
        maps = finite_maps(maps, self.model)
        return normalize_maps(maps) if normalize else maps

    def explain_batch(self, batch, target, params, batch_size, offset):
        """Raw maps `(b, H, W)` of one checked batch; returns a tuple `(maps,)`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ batching

    def collect(self, inputs, target, batch_size, fn):
        """Runs `fn(batch, target, params, batch_size, offset) -> tuple of arrays` over
        the checked batches of `inputs` and concatenates each result along axis 0."""
        inputs_lib.check_not_model(inputs)
        target = targets_lib.to_target(target)
        batch_size = positive_int(batch_size, "batch_size")
        results, offset = [], 0
        for batch, batch_target, params in batches_lib.target_batches(
            inputs, self.model, target, batch_size
        ):
            if self.perturbs:
                batch_target, params = self.fixed_target(batch, batch_target, params)
            results.append(fn(batch, batch_target, params, batch_size, offset))
            offset += len(batch)
        return tuple(np.concatenate(parts, axis=0) for parts in zip(*results))

    def fixed_target(self, batch, target, params):
        """`predicted()` becomes the class predicted on `batch` (for dense outputs: that
        class's logit over the pixels predicted as it); other targets are returned as is.
        """
        if target.key != ("predicted",):
            return target, params
        outputs = self.outputs(batch)
        if outputs.ndim == 2:
            fixed = targets_lib.class_score(outputs.argmax(axis=-1).astype(np.int32))
        else:
            spatial = tuple(range(1, outputs.ndim - 1))
            ids = outputs.mean(axis=spatial).argmax(axis=-1).astype(np.int32)
            mask = outputs.argmax(axis=-1) == ids.reshape((-1,) + (1,) * len(spatial))
            fixed = targets_lib.mask_score(ids, mask)
        return fixed, fixed.bind(len(batch))

    def outputs(self, batch):
        """The scored output (logits unless `logits=False`) of `batch`, float32 numpy."""
        engine = self.engine

        def forward(x, params):
            del params
            with engine_lib.float_pixels(engine.model, x) as fed:
                return engine.scored(engine.model(fed, training=False))

        params = {"none": np.zeros((len(batch), 0), np.float32)}
        run = engine.compile(("attribution", "outputs"), forward, batch, params)
        return run(tf.constant(batch), as_tensors(params)).numpy()

    # ------------------------------------------------------------------ row passes

    def compiled(self, name, fn, batch, params, target):
        """The engine's concrete function, with the target checked against the output."""
        self.engine.check_target(target, len(batch))
        run = self.engine.compile((type(self).__name__, name, target.key), fn, batch, params)
        target.check(self.engine.output_shape, len(batch))
        return run

    def run_rows(self, name, graph, batch, target, rows, images, batch_size, consume):
        """Feeds rows to the compiled `graph` in chunks of `batch_size`.

        Args:
            name: Hashable, the graph's name in the compile cache (with the target key).
            graph: `graph(x, {"rows": ..., "images": ...}) -> (unit_sums, scores)`, where
                `x` is the batch, `unit_sums` the sums over each unit present in the
                chunk (in order) and `scores` the `(rows,)` target scores.
            batch: Checked float32 images `(b, H, W, C)`.
            target: The `Target` (for the compile key and the output check).
            rows: Dict of numpy arrays with a leading row axis; `rows["unit"]` (int32,
                consecutive from 0, non-decreasing) groups them.
            images: Dict of numpy arrays with a leading image axis (`b`), e.g. the target
                parameters; the graph gathers them per row.
            batch_size: Integer, rows per pass.
            consume: Callable `(unit_ids, unit_sums)` called with complete units.

        Returns:
            float32 numpy `(rows,)`: the target score of every row.
        """
        units = rows["unit"]
        last = np.r_[units[1:] != units[:-1], True]  # the last row of each unit
        x = tf.constant(batch)
        image_tensors = as_tensors(images)
        scores, pending = [], None
        for start in range(0, len(units), batch_size):
            stop = min(len(units), start + batch_size)
            chunk = {key: value[start:stop] for key, value in rows.items()}
            params = {"rows": chunk, "images": images}
            run = self.compiled(name, graph, batch, params, target)
            sums, chunk_scores = run(x, {"rows": as_tensors(chunk), "images": image_tensors})
            sums = sums.numpy()
            scores.append(chunk_scores.numpy())
            ids = np.arange(units[start], units[stop - 1] + 1)
            if pending is not None:
                sums[0] += pending
            complete = len(ids) if last[stop - 1] else len(ids) - 1
            pending = None if last[stop - 1] else sums[-1]
            if complete:
                consume(ids[:complete], sums[:complete])
        return np.concatenate(scores)


def gather_rows(images, rows):
    """Per-row view of per-image tensors (inside a graph): `images[rows["image"]]`."""
    return tf.nest.map_structure(lambda a: tf.gather(a, rows["image"]), images)


def unit_sums(values, rows):
    """Sums `values` `(rows, ...)` over each unit of a chunk (inside a graph)."""
    units = rows["unit"]
    return tf.math.segment_sum(values, units - units[0])


# --------------------------------------------------------------------------- function forms

_hashable = cam_base.hashable


def explain(
    cls,
    model,
    inputs,
    target=None,
    *,
    output=None,
    logits=True,
    batch_size=32,
    normalize=True,
    **options,
):
    """Runs a cached `cls(model, ...)` explainer (the function forms use this).

    Explainers are cached per (method, model, options) in the CAMs' cache (cleared by
    `tfxai.clear_cache`), so repeated calls reuse the compiled graphs. Options named in
    `cls.call_options` go to the call, the others to the constructor.
    """
    call = {name: options.pop(name) for name in cls.call_options if name in options}
    key = (
        cls,
        id(model),
        _hashable(output),
        _hashable(logits),
        tuple(sorted((k, _hashable(v)) for k, v in options.items())),
    )
    cache = cam_base._cache  # pylint: disable=protected-access
    explainer = cache.get(key)
    if explainer is None or explainer.model is not model:
        cam_base.check_options(
            cls,
            cls.__name__,
            dict(options, **call),
            ("batch_size", "normalize") + tuple(cls.call_options),
        )
        explainer = cls(model, output=output, logits=logits, **options)
        cache[key] = explainer
        while len(cache) > cam_base._CACHE_SIZE:  # pylint: disable=protected-access
            cache.popitem(last=False)
    cache.move_to_end(key)
    return explainer(inputs, target, batch_size=batch_size, normalize=normalize, **call)


_FUNCTION_DOC = """{title} maps `(B, H, W)` float32 in [0, 1]: the function form of `{cls}`.

    Args:
        model: A Keras model; never changed.
        inputs: Images `(B, H, W, C)`: numpy, `tf.Tensor` or `tf.data.Dataset`.
        target: `None` (predicted class), int, list of ints, callable or `Target`.
        **options: `output`, `logits`{extra}, `batch_size` (Integer, default 32, model
            evaluations per compiled pass) and `normalize` (Boolean, default True), as in
            `{cls}`. The explainer is cached per (model, options), so repeated calls reuse
            its compiled graphs.

    Returns:
        float32 numpy array `(B, H, W)`{returns}.

    Raises:
        ValueError: On bad inputs, target or options (the message names which).

    Example:
        >>> maps = tfxai.{name}(model, images, target=[3, 5]{example})

    Reference:
        {reference}
    """


def function_form(cls, name, title, reference, extra="", example="", returns=""):
    """Builds the function twin `name(model, inputs, target=None, **options)` of `cls`."""

    def explain_with(model, inputs, target=None, **options):
        return explain(cls, model, inputs, target, **options)

    explain_with.__name__ = explain_with.__qualname__ = name
    explain_with.__module__ = cls.__module__
    explain_with.__doc__ = _FUNCTION_DOC.format(
        title=title,
        cls=cls.__name__,
        name=name,
        reference=reference,
        extra=extra,
        example=example,
        returns=returns,
    )
    return explain_with
