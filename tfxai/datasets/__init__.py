"""Synthetic data sets with ground truth: shapes with pixel masks."""

from tfxai.datasets.shapes import CLASSES, Shapes, make_shapes, shapes_dataset

__all__ = ["CLASSES", "Shapes", "make_shapes", "shapes_dataset"]
