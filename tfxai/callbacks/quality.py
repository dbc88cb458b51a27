"""`ExplanationMetricsCallback`: explanation quality as training metrics (`logs["xai_..."]`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tfxai import inputs as inputs_lib
from tfxai import methods
from tfxai import metrics as metrics_lib
from tfxai._typing import LayerRef, TargetLike
from tfxai.callbacks import base
from tfxai.callbacks import samples as samples_lib
from tfxai.metrics import scoring

MASK_METRICS = ("pointing_game", "energy_pointing_game", "iou")
MODEL_METRICS = ("deletion", "insertion", "average_drop", "increase_in_confidence")
# Per-epoch monitoring: 24 steps (the demo's curves) rather than the metrics' 50, so the
# deletion curve of 8 images costs 200 forward passes, not 408; set `metric_options` to
# change it.
DEFAULT_OPTIONS = {"deletion": {"steps": 24}, "insertion": {"steps": 24}}

#: `fn(model, images, maps, masks, target, options) -> float`, one metric's mean.
Metric = Callable[..., float]


def _mean_over_masks(fn: Callable[..., Any]) -> Metric:
    return lambda model, images, maps, masks, target, options: float(
        np.mean(fn(maps, masks, **options))
    )


def _mean_over_model(fn: Callable[..., Any]) -> Metric:
    return lambda model, images, maps, masks, target, options: float(
        np.mean(fn(model, images, maps, target, **options))
    )


METRICS = {
    "pointing_game": _mean_over_masks(metrics_lib.pointing_game),
    "energy_pointing_game": _mean_over_masks(metrics_lib.energy_pointing_game),
    "iou": _mean_over_masks(metrics_lib.iou),
    "deletion": _mean_over_model(metrics_lib.deletion),
    "insertion": _mean_over_model(metrics_lib.insertion),
    "average_drop": _mean_over_model(metrics_lib.average_drop),
    "increase_in_confidence": _mean_over_model(metrics_lib.increase_in_confidence),
}


class ExplanationMetricsCallback(base.LoggingCallback):
    """Scores the explanations of fixed samples every `freq` epochs, as training metrics.

    The means over the samples go into `logs` as `<prefix><metric>` (e.g.
    `"xai_pointing_game"`) in `on_epoch_end`, so `History`, `CSVLogger`, `EarlyStopping`
    and `ModelCheckpoint` listed AFTER this callback see them (Keras calls callbacks in
    list order and adds `History` last), and as TensorBoard scalars `epoch_<key>` in
    `<log_dir>/<run>` (the tag `keras.callbacks.TensorBoard` gives an epoch metric). The
    target is fixed on the clean samples first (`None`: the class predicted at this epoch)
    and both the explainer and the metrics use it.

    Args:
        method: A method name, explainer class, function form or callable, as in
            `ExplanationCallback`.
        inputs: Images, `(images, labels)`, `(images, labels, masks)` or a dataset whose
            first batch is one of these.
        masks: Boolean object masks `(B, H, W)` (default: the third item of `inputs`),
            needed by `"pointing_game"`, `"energy_pointing_game"` and `"iou"`.
        target: `None` (default, predicted class), an int, a list of ints, `"labels"` or a
            `Target`.
        metrics: Names from `METRICS`, default `("pointing_game", "deletion")` with masks,
            `("deletion", "insertion")` without.
        metric_options: Dict `{metric: {option: value}}`, e.g.
            `{"deletion": {"steps": 50}, "pointing_game": {"tolerance": 0}}`, over the
            defaults `DEFAULT_OPTIONS` (deletion and insertion curves of 24 steps).
        freq: Integer, default 1. Score every `freq` epochs (other epochs carry no key:
            `CSVLogger` writes "NA"; monitor with `freq=1`).
        prefix: String, default "xai_". Prefix of the keys.
        log_dir: String, path or `None` (default: logs only, no TensorBoard).
        run: String, default "tfxai_metrics".
        layer: Layer for the methods that take one.
        batch_size: Integer, default 32. Images per pass of the metrics.
        **method_options: Options of the method (`output` is also given to the metrics).

    Raises:
        ValueError, TypeError: At construction on an unknown metric, method or option,
            missing or misshapen masks; at `on_train_begin` on what needs the model.

    Example:
        >>> quality = ExplanationMetricsCallback("grad_cam", (images, labels, objects),
        ...                                      target="labels")
        >>> stop = keras.callbacks.EarlyStopping(monitor="xai_pointing_game", mode="max")
        >>> model.fit(ds, epochs=30, callbacks=[quality, stop])
    """

    default_run = "tfxai_metrics"
    keeps_start = False

    def __init__(
        self,
        method: str | type | Callable[..., Any],
        inputs: Any,
        *,
        masks: np.ndarray | None = None,
        target: TargetLike | str = None,
        metrics: str | Sequence[str] | None = None,
        metric_options: Mapping[str, Mapping[str, Any]] | None = None,
        freq: int = 1,
        prefix: str = "xai_",
        log_dir: str | os.PathLike[str] | None = None,
        run: str | None = None,
        layer: LayerRef | None = None,
        batch_size: int = 32,
        **method_options: Any,
    ) -> None:
        self.method, self.layer = method, layer
        methods.split_options(method, layer, method_options)
        self.method_options = method_options
        self.samples = samples_lib.fixed_samples(inputs)
        masks = samples_lib.check_masks(masks, self.samples.images.shape)
        self.masks = self.samples.masks if masks is None else masks
        self.metrics = _check_metrics(metrics, self.masks is not None)
        self.metric_options = _check_metric_options(metric_options, self.metrics)
        if isinstance(target, dict):
            raise ValueError(
                "target: the metrics callback scores one target; got a dict "
                "(use one callback per target, each with its own prefix)."
            )
        self.target = samples_lib.resolve_targets(target, self.samples).popitem()[1]
        if not isinstance(prefix, str):
            raise TypeError(f"prefix: expected a string, got {type(prefix).__name__}.")
        self.prefix = prefix
        self.batch_size = inputs_lib.positive_int(batch_size, "batch_size")
        self.output = method_options.get("output")
        self.explain: Any = None  # built by prepare(), once per fit
        self.images: Any = None
        super().__init__(freq=freq, log_dir=log_dir, run=run)

    def prepare(self) -> None:
        self.images = inputs_lib.as_image_batch(self.samples.images, self.model)
        self.explain = methods.build(
            self.method, self.model, layer=self.layer, **self.method_options
        )

    def compute(self) -> dict[str, float]:
        """`{key: mean value}` of every metric for the current weights."""
        scorer = scoring.scorer_for(self.model, output=self.output)
        _, target = scorer.fixed_target(self.images, self.target, self.batch_size)
        maps = np.asarray(self.explain(self.images, target), np.float32)
        values = {}
        for name in self.metrics:
            options = {**DEFAULT_OPTIONS.get(name, {}), **self.metric_options.get(name, {})}
            if name in MODEL_METRICS:
                options.setdefault("batch_size", self.batch_size)
                options.setdefault("output", self.output)
            value = METRICS[name](self.model, self.images, maps, self.masks, target, options)
            if not np.isfinite(value):
                raise ValueError(f"metrics: {name!r} is {value} on these maps.")
            values[self.prefix + name] = value
        return values

    def write(
        self,
        column: dict[str, float],
        name: str,
        label: str,
        step: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        if logs is not None:
            logs.update(column)
        if self.writer is not None:
            self.writer.scalars({f"epoch_{key}": value for key, value in column.items()}, step)
            self.writer.flush()


def _check_metrics(metrics: str | Sequence[str] | None, has_masks: bool) -> tuple[str, ...]:
    if metrics is None:
        return ("pointing_game", "deletion") if has_masks else ("deletion", "insertion")
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise ValueError(
            f"metrics: unknown {unknown or list(names)}; expected names from {', '.join(METRICS)}."
        )
    needing = [name for name in names if name in MASK_METRICS]
    if needing and not has_masks:
        raise ValueError(
            f"masks: {', '.join(needing)} need object masks; pass masks= "
            f"(boolean, one (H, W) mask per sample) or inputs as (images, "
            f"labels, masks)."
        )
    return names


def _check_metric_options(
    options: Mapping[str, Mapping[str, Any]] | None, names: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    options = dict(options or {})
    for name, value in options.items():
        if name not in names:
            raise ValueError(f"metric_options: {name!r} is not among the metrics {list(names)}.")
        if not isinstance(value, dict):
            raise TypeError(
                f"metric_options: expected a dict of options for {name!r}, got "
                f"{type(value).__name__}."
            )
    return options
