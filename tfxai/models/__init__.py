"""Models: the Keras ResNet50, a U-Net, two small shapes classifiers, and the bundled zoo."""

from tfxai.models.classifier import shapes_classifier, shapes_gap_classifier
from tfxai.models.evaluate import accuracy, mean_iou
from tfxai.models.resnet import CaffePreprocessing, resnet50
from tfxai.models.unet import unet
from tfxai.models.zoo import available, info, load

__all__ = [
    "CaffePreprocessing",
    "accuracy",
    "available",
    "info",
    "load",
    "mean_iou",
    "resnet50",
    "shapes_classifier",
    "shapes_gap_classifier",
    "unet",
]
