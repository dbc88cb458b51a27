"""Keras callbacks: explanations, feature visualizations and explanation quality in `fit`.

- `ExplanationCallback`: overlay grids of any CAM or attribution method on fixed samples
  every `freq` epochs, and a timeline (samples x epochs) at the end of training.
- `FeatureVisCallback`: feature-visualization renderings of fixed objectives and seed.
- `ExplanationMetricsCallback`: pointing game, deletion, ... as `logs["xai_..."]`, seen by
  History, CSVLogger, EarlyStopping and ModelCheckpoint.

All write PNGs and TensorBoard summaries into `<log_dir>/<run>/` beside
`keras.callbacks.TensorBoard`'s runs, reuse one compiled explainer for the whole `fit`,
never change the weights or the training RNG, and turn a failure into a warning.
"""

from tfxai.callbacks.base import LoggingCallback
from tfxai.callbacks.explanation import ExplanationCallback
from tfxai.callbacks.features import FeatureVisCallback
from tfxai.callbacks.quality import METRICS, ExplanationMetricsCallback

__all__ = [
    "METRICS",
    "ExplanationCallback",
    "ExplanationMetricsCallback",
    "FeatureVisCallback",
    "LoggingCallback",
]
