"""Visualization: colormaps, deprocessing, overlays and PNG output.

numpy, matplotlib and Pillow only: this package never imports TensorFlow and
never computes gradients. Explainers return arrays; these functions draw them.
"""

from tfxai.viz.colormaps import apply_colormap
from tfxai.viz.deprocess import deprocess, to_uint8_image
from tfxai.viz.grid import image_grid
from tfxai.viz.io import save_png
from tfxai.viz.overlay import overlay

__all__ = ["apply_colormap", "deprocess", "image_grid", "overlay", "save_png", "to_uint8_image"]
