"""Line plots of the metrics: deletion/insertion curves and the sanity check.

The results are read by their attributes (`tfxai.metrics.CausalCurves`,
`tfxai.metrics.SanityCheckResult`): `tfxai.viz` imports nothing above it. Each plot
returns a `matplotlib.figure.Figure` built without pyplot (see `tfxai.viz._figure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tfxai.viz import _checks, _figure

MAX_LABELED = 10  # above this many images, curves are drawn without a legend entry each


def _by_name(result: Any, fields: tuple[str, ...], what: str, hint: str) -> dict[str, Any]:
    """`{name: result}` from one result (name `""`) or a dict of them, checked by fields."""
    named = dict(result) if isinstance(result, Mapping) else {"": result}
    if not named:
        raise ValueError(f"result: expected a {what} or a non-empty dict of them, got {{}}.")
    for name, value in named.items():
        if not all(hasattr(value, field) for field in fields):
            where = f"result[{name!r}]" if name else "result"
            raise TypeError(
                f"{where}: expected a {what} (with {', '.join(fields)}){hint}, got "
                f"{type(value).__name__}."
            )
    return {str(name): value for name, value in named.items()}


def _check_curves(result: Any, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    auc = _checks.as_real_array(result.auc, f"{where}.auc").reshape(-1)
    curves = _checks.as_real_array(result.curves, f"{where}.curves")
    fractions = _checks.as_real_array(result.fractions, f"{where}.fractions")
    if curves.ndim != 2 or fractions.shape != (curves.shape[1],) or len(auc) != len(curves):
        raise ValueError(
            f"{where}: expected curves (B, steps + 1), fractions (steps + 1,) and auc (B,), "
            f"got shapes {curves.shape}, {fractions.shape} and {auc.shape}."
        )
    return auc, curves, fractions


def plot_curves(result: Any, *, labels: Sequence[str] | None = None) -> Figure:
    """Plots deletion/insertion curves with their areas (AUC): one axes per result.

    Each image's curve (the target probability against the fraction of pixels changed)
    is a line labeled with its AUC, printed to 3 decimals; with several images a thick
    black line is their mean, whose AUC is the mean AUC. Above `MAX_LABELED` (10) images
    only the mean is in the legend.

    Args:
        result: A `tfxai.metrics.CausalCurves` (`deletion`/`insertion` with
            `return_curves=True`), or a dict `{title: CausalCurves}`, e.g.
            `{"deletion": ..., "insertion": ...}`, drawn side by side.
        labels: Optional list of `B` strings naming the images in the legends.

    Returns:
        A `matplotlib.figure.Figure` with one axes per result, titled with the mean AUC.
        Not shown; displays inline in Jupyter.

    Raises:
        TypeError: If a result is not a `CausalCurves` (such as the AUC array that
            `return_curves=False` gives), or `labels` not a list.
        ValueError: If a result's arrays do not fit together, or `labels` has the wrong
            length.

    Example:
        >>> curves = {name: getattr(tfxai.metrics, name)(model, images, cams,
        ...           return_curves=True) for name in ("deletion", "insertion")}
        >>> tfxai.viz.plot_curves(curves).savefig("curves.png")
    """
    hint = " from deletion/insertion with return_curves=True"
    named = _by_name(result, ("auc", "curves", "fractions"), "CausalCurves", hint)
    checked = {
        name: _check_curves(value, f"result[{name!r}]" if name else "result")
        for name, value in named.items()
    }
    count = len(next(iter(checked.values()))[1])
    labels = _figure.check_labels(labels, count, "labels")
    figure = _figure.new_figure(4.5 * len(checked), 3.6)
    for axes, (name, (auc, curves, fractions)) in zip(
        figure.subplots(1, len(checked), squeeze=False)[0], checked.items()
    ):
        if len(curves) != count:
            raise ValueError(
                f"result[{name!r}]: expected {count} curves like the first result, got "
                f"{len(curves)}."
            )
        labeled = count <= MAX_LABELED
        for i, (curve, area) in enumerate(zip(curves, auc)):
            image = labels[i] if labels else f"image {i}"
            label = f"{image}: AUC {area:.3f}" if labeled else "_nolegend_"
            axes.plot(fractions, curve, label=label, linewidth=1.2, alpha=0.85)
        mean_auc = float(np.mean(auc))
        if count > 1:
            mean_label = f"mean: AUC {mean_auc:.3f}"
            axes.plot(fractions, curves.mean(axis=0), "k-", linewidth=2.5, label=mean_label)
        axes.set_title(f"{name}: mean AUC {mean_auc:.3f}" if name else f"mean AUC {mean_auc:.3f}")
        axes.set_xlabel("fraction of pixels changed")
        axes.set_ylabel("target probability")
        axes.set_xlim(0.0, 1.0)
        axes.set_ylim(-0.02, max(1.02, float(curves.max()) + 0.02))
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    return figure


def plot_sanity(result: Any) -> Figure:
    """Plots a sanity check: the similarity after randomizing each layer, a line per method.

    The x axis lists the layers in randomization order (the top, logits, first; each step
    randomizes its layer and every one before it); y is the similarity of the maps with
    the intact model's, averaged over the images, with the images' range shaded. A method
    that explains the model falls; one that stays near 1 ignores the weights (Adebayo et
    al.: Guided Backprop).

    Args:
        result: A `tfxai.metrics.SanityCheckResult`, or a dict `{method name: result}`
            of results over the same layers, e.g. `{"Grad-CAM": ..., "Guided BP": ...}`.

    Returns:
        A `matplotlib.figure.Figure` with one axes: one line per method, its x tick
        labels the layer names. Not shown; displays inline in Jupyter.

    Raises:
        TypeError: If a result is not a `SanityCheckResult`.
        ValueError: If the results randomize different layers, use different similarity
            measures, or their similarities are not `(steps, B)` over those layers.

    Example:
        >>> results = {name: tfxai.metrics.sanity_check(model, images, fn)
        ...            for name, fn in [("Grad-CAM", tfxai.grad_cam), ("Saliency", tfxai.saliency)]}
        >>> tfxai.viz.plot_sanity(results).savefig("sanity.png")

    Reference:
        Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018.
        https://arxiv.org/abs/1810.03292
    """
    fields = ("layers", "similarities", "similarity")
    named = _by_name(result, fields, "SanityCheckResult", " from tfxai.metrics.sanity_check")
    first_name, first = next(iter(named.items()))
    layers = [str(layer) for layer in first.layers]
    for name, value in named.items():
        where = f"result[{name!r}]" if name else "result"
        if [str(layer) for layer in value.layers] != layers:
            raise ValueError(
                f"{where}: expected the layers of result[{first_name!r}] {layers}, got "
                f"{list(value.layers)}; compare methods over the same layers."
            )
        if value.similarity != first.similarity:
            raise ValueError(
                f"{where}: expected the similarity of result[{first_name!r}] "
                f"{first.similarity!r}, got {value.similarity!r}."
            )
    figure = _figure.new_figure(max(4.5, 0.45 * len(layers) + 2.0), 4.0)
    axes = figure.add_subplot()
    steps = np.arange(len(layers))
    low = 0.0
    for name, value in named.items():
        where = f"result[{name!r}]" if name else "result"
        scores = _checks.as_real_array(value.similarities, f"{where}.similarities")
        if scores.ndim != 2 or len(scores) != len(layers):
            raise ValueError(
                f"{where}.similarities: expected shape ({len(layers)}, B) (one row per "
                f"layer), got {scores.shape}."
            )
        mean = scores.mean(axis=1)
        (line,) = axes.plot(steps, mean, "o-", label=name or "_nolegend_")
        low_high = scores.min(axis=1), scores.max(axis=1)
        axes.fill_between(steps, *low_high, color=line.get_color(), alpha=0.15, linewidth=0)
        low = min(low, float(np.nanmin(scores)))
    axes.set_xticks(steps, layers, rotation=45, ha="right")
    axes.set_xlabel("randomized down to")
    axes.set_ylabel(f"{first.similarity} similarity to the intact maps")
    axes.set_ylim(low - 0.05, 1.05)
    axes.set_title("Model-parameter randomization (cascading)")
    axes.grid(alpha=0.3)
    if len(named) > 1 or first_name:
        axes.legend(fontsize="small")
    return figure
