"""Visualization: colormaps, deprocessing, overlays, PNG output and plots.

numpy, matplotlib and Pillow only: this package never imports TensorFlow and
never computes gradients. Explainers return arrays; these functions draw them.
The plots (`plot_explanations`, `plot_curves`, `plot_sanity`, `plot_rendering`,
`volume_slices`) return a `matplotlib.figure.Figure` built without pyplot: never
shown, displayed inline when a notebook cell returns it.
"""

from tfxai.viz.colormaps import apply_colormap
from tfxai.viz.curve_plots import plot_curves, plot_sanity
from tfxai.viz.deprocess import deprocess, to_uint8_image
from tfxai.viz.grid import image_grid
from tfxai.viz.io import save_png
from tfxai.viz.overlay import overlay
from tfxai.viz.plots import plot_explanations, plot_rendering
from tfxai.viz.volumes import volume_slices

__all__ = [
    "apply_colormap",
    "deprocess",
    "image_grid",
    "overlay",
    "plot_curves",
    "plot_explanations",
    "plot_rendering",
    "plot_sanity",
    "save_png",
    "to_uint8_image",
    "volume_slices",
]
