"""Explaining whole datasets: streamed, sharded, resumable; on one machine or with Beam.

- `explain_dataset(model, dataset, method, out_dir, ...)`: a `tf.data` pipeline (or a
  folder of images) through one explainer, optionally under a `tf.distribute` strategy,
  into `.npz` shards and a `manifest.json`; killed and restarted, it resumes.
- `load_explanations(out_dir)`: the result, read lazily (numpy only).
- `tfxai.beam.ExplainImages`: the same explainer and shard format as an Apache Beam
  transform (`pip install tfxai[beam]`).
"""

from tfxai.scale.results import Explanations, load_explanations
from tfxai.scale.run import explain_dataset

__all__ = ["Explanations", "explain_dataset", "load_explanations"]
