"""`ExplanationCallback`: where the model looks, epoch after epoch, during `model.fit`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.colors import Colormap

from tfxai import methods, viz
from tfxai._typing import LayerRef, TargetLike
from tfxai.callbacks import base
from tfxai.callbacks import samples as samples_lib


class ExplanationCallback(base.LoggingCallback):
    """Explains fixed samples every `freq` epochs with any CAM or attribution method.

    Each logged epoch writes `<log_dir>/<run>/epoch_0001.png` (a grid: one row per sample,
    the input then one overlay per target) and a TensorBoard image summary (tag: the
    method's name, step: the epoch index, as `keras.callbacks.TensorBoard` counts). At the
    end of training, `timeline.png` (`timeline_<target>.png` with several targets) shows
    one row per sample and one column per logged epoch, the first column taken before
    training: where the model looked at the start, at epoch 1, 5, 20...

    Args:
        method: A method name (`"grad_cam"`, `"smooth_grad"`, ... see
            `tfxai.methods.METHODS`), an explainer class (`tfxai.GradCAM`), an instance
            built on the model being trained (`tfxai.GradCAM(model, top_n=...)`, with its
            own options), a function form (`tfxai.grad_cam`) or a callable
            `fn(model, inputs, target=...)`.
        inputs: The fixed samples: images `(B, H, W, C)` (numpy or tensor), a tuple
            `(images, labels)`, or a `tf.data.Dataset` (its first batch is taken).
        target: Default `None` (the class predicted at each epoch). An int, a list of ints
            (one per sample), `"labels"` (the samples' labels), a `Target` such as
            `tfxai.mask_score(...)` for segmenters, or a dict `{name: target}` to explain
            every sample for several targets (one column each).
        freq: Integer, default 1. Log every `freq` epochs.
        batch_freq: Integer or `None` (default). Also log every `batch_freq` batches
            (`batch_0000120.png`; TensorBoard tag `<method>/batch`, step = batches seen).
        log_dir: String or path, default "logs". The `log_dir` of your
            `keras.callbacks.TensorBoard`, if you use one.
        run: String, default `"tfxai_<method>"`. The run folder inside `log_dir`.
        layer: Layer reference for the methods that take one (default `None`: the last
            layer with a 4-D output).
        alpha: Float, default 0.5. Opacity of the heatmap in the overlays.
        colormap: String, default "jet".
        preprocessing: `None` (images in [0, 1] or [0, 255]), `"caffe"`, `"tf"` or
            `"torch"`: how to show preprocessed samples.
        class_names: Optional list of class names for the row labels.
        timeline_columns: Integer, default 12. Most columns of the timeline.
        **method_options: Options of the method (`top_n`, `samples`, `output`, ...).

    Raises:
        ValueError, TypeError: On an unknown method or option, bad samples or target, or a
            `log_dir` that cannot be written. A bad layer, a target that does not fit the
            model or samples of the wrong shape fail at `on_train_begin`.

    Example:
        >>> callback = ExplanationCallback("grad_cam", (images[:8], labels[:8]),
        ...                                target="labels", log_dir="logs")
        >>> model.fit(ds, epochs=20, callbacks=[callback, keras.callbacks.TensorBoard("logs")])
    """

    def __init__(
        self,
        method: str | type | Callable[..., Any],
        inputs: Any,
        target: TargetLike | str | dict[str, Any] = None,
        *,
        freq: int = 1,
        batch_freq: int | None = None,
        log_dir: str | os.PathLike[str] | None = "logs",
        run: str | None = None,
        layer: LayerRef | None = None,
        alpha: float = 0.5,
        colormap: str | Colormap = "jet",
        preprocessing: str | None = None,
        class_names: Sequence[str] | None = None,
        timeline_columns: int = 12,
        **method_options: Any,
    ) -> None:
        self.method = method
        self.name = methods.method_name(method)
        methods.split_options(method, layer, method_options)  # unknown options fail now
        self.layer, self.method_options = layer, method_options
        self.samples = samples_lib.fixed_samples(inputs)
        self.targets = samples_lib.resolve_targets(target, self.samples)
        self.inputs_shown = np.stack(
            [viz.to_uint8_image(image, preprocessing) for image in self.samples.images]
        )
        viz.overlay(
            self.inputs_shown[:1],
            np.zeros(self.inputs_shown.shape[1:3]),
            alpha=alpha,
            colormap=colormap,
        )  # checks alpha and colormap now
        self.alpha, self.colormap = alpha, colormap
        self.row_labels = _row_labels(self.samples.labels, class_names)
        self.explain: Any = None  # built by prepare(), once per fit
        super().__init__(
            freq=freq,
            batch_freq=batch_freq,
            log_dir=log_dir,
            run=run or f"tfxai_{self.name}",
            timeline_columns=timeline_columns,
        )

    def prepare(self) -> None:
        self.explain = methods.build(
            self.method, self.model, layer=self.layer, **self.method_options
        )

    def compute(self) -> dict[str, np.ndarray]:
        """`{target name: uint8 maps (B, H, W)}` for the current weights."""
        column = {}
        for key, target in self.targets.items():
            maps = np.asarray(self.explain(self.samples.images, target), np.float32)
            if maps.shape != self.samples.images.shape[:3]:
                raise ValueError(
                    f"method: {self.name!r} returned maps of shape {maps.shape}; "
                    f"expected {self.samples.images.shape[:3]}."
                )
            if not np.all(np.isfinite(maps)):
                raise ValueError(
                    f"method: {self.name!r} returned NaN or infinite maps for target {key!r}."
                )
            column[key] = np.rint(255 * viz_range(maps)).astype(np.uint8)
        return column

    def overlays(self, maps: np.ndarray) -> np.ndarray:
        """uint8 overlays `(B, H, W, 3)` of uint8 maps on the samples."""
        return viz.overlay(
            self.inputs_shown,
            maps.astype(np.float32) / 255.0,
            alpha=self.alpha,
            colormap=self.colormap,
        )

    def write(
        self,
        column: dict[str, np.ndarray],
        name: str,
        label: str,
        step: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        tiles = [self.inputs_shown] + [self.overlays(maps) for maps in column.values()]
        grid = base.tile_grid(np.stack(tiles, axis=1), self.row_labels, [label] + list(column))
        if self.writer is not None:
            self.writer.png(f"{name}.png", grid)
            tag = self.name if name.startswith("epoch") else f"{self.name}/batch"
            self.writer.image(tag, grid, step)
            self.writer.flush()

    def timeline_images(
        self, labels: Sequence[str], columns: Sequence[dict[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        images = {}
        for key in self.targets:
            tiles = np.stack([self.overlays(column[key]) for column in columns], axis=1)
            stem = "timeline" if len(self.targets) == 1 else f"timeline_{_slug(key)}"
            images[stem] = base.tile_grid(tiles, self.row_labels, labels)
        return images


def viz_range(maps: np.ndarray) -> np.ndarray:
    """Finite maps scaled to [0, 1] per image for display (maps in [0, 1] stay as they are)."""
    if maps.min() >= 0 and maps.max() <= 1:
        return maps
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)


def _row_labels(labels: np.ndarray | None, class_names: Sequence[str] | None) -> list[str] | None:
    if labels is None:
        return None
    if class_names is not None:
        names = list(class_names)
        return [names[c] if 0 <= c < len(names) else str(c) for c in labels]
    return [f"class {c}" for c in labels]


def _slug(text: object) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text))
