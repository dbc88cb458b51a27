"""The Apache Beam face of tfxai (`pip install "tfxai[beam]"`).

- `ExplainImages(model_path, method, out_dir, ...)`: a `beam.PTransform` explaining a
  PCollection of `(index, image)` elements into the shards and manifest that
  `tfxai.load_explanations` reads, as `tfxai.explain_dataset` writes them.
- `explain_folder(model_path, image_dir, out_dir, method, ...)`: a folder of images through
  that transform, on the local runner or the one `pipeline_options` names.

Importing this module without Apache Beam raises an `ImportError` that says how to install
it. The code lives in `tfxai.scale.beam` (the transform and its argument checks) and
`tfxai.scale.beam_steps` (the steps the workers run).
"""

from tfxai.scale.beam import ExplainImages, explain_folder

__all__ = ["ExplainImages", "explain_folder"]
