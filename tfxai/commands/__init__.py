"""The `tfxai` commands, one module each, wired into argparse by `tfxai.cli`.

Nothing here imports TensorFlow when imported: each command checks what it can without a
model first (`checks`, against the static tables of `catalog`) and imports TensorFlow
only when it has to (`quiet.import_tensorflow`).
"""
