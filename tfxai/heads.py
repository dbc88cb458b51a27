"""What a model's output means, and the probabilities the metrics and Score-CAM score.

Three kinds of classification head, told apart by the traced output:

- a single logit `(B, 1)` (or `(B, H, W, 1)`): a binary decision. Targets see it as two
  class scores `[-z, z]`: `class_score(0)` / `class_score(1)` are the negative / positive
  decision, `predicted()` is `z` if `z > 0` else `-z` (the convention of pytorch-grad-cam's
  BinaryClassifierOutputTarget and tf-keras-vis' BinaryScore); probabilities
  `[1 - sigmoid(z), sigmoid(z)]`.
- a sigmoid over `k > 1` outputs: multi-label; each label's probability is its own sigmoid.
- anything else (a softmax, or raw logits): classes; probabilities are the softmax.

For dense outputs (segmentation) a target's probability is the MEAN probability over the
pixels it weighs (a `mask_score` mask, every pixel for `class_score`), so the metrics'
curves and areas stay in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import tensorflow as tf

if TYPE_CHECKING:
    from tfxai.targets import Target


class _ScoredHead(Protocol):
    """What `probability_target` reads of a `tfxai.engine.Engine` (set while tracing)."""

    head: str | None
    binary: bool
    logits: bool


_PASS_THROUGH_OPS = ("Identity", "Cast", "IdentityN")
_PROBABILITY_OPS = {"Softmax": "softmax", "Sigmoid": "sigmoid"}


def probability_op(tensor: tf.Tensor) -> tf.Operation | None:
    """The Softmax/Sigmoid op a traced output ends in (through Identity/Cast ops), or None."""
    node = tensor
    while hasattr(node, "op") and not tf.executing_eagerly():
        if node.op.type in _PROBABILITY_OPS:
            return node.op
        if node.op.type not in _PASS_THROUGH_OPS or not node.op.inputs:
            break
        node = node.op.inputs[0]
    return None


def head_of(tensor: tf.Tensor) -> str | None:
    """`"softmax"` or `"sigmoid"` when a traced output ends in that op, else `None`."""
    op = probability_op(tensor)
    return None if op is None else _PROBABILITY_OPS[op.type]


def is_binary(shape: Sequence[int | None]) -> bool:
    """True for a single-logit output `(B, 1)` or `(B, ..., 1)`."""
    return len(shape) >= 2 and shape[-1] == 1


def two_classes(outputs: tf.Tensor, probability: bool = False) -> tf.Tensor:
    """A binary output as two class scores: `[-z, z]` for a logit, `[1 - p, p]` for a
    probability."""
    if probability:
        return tf.concat([1.0 - outputs, outputs], axis=-1)
    return tf.concat([-outputs, outputs], axis=-1)


def probabilities(
    outputs: tf.Tensor, head: str | None, *, binary: bool = False, logits: bool = True
) -> tf.Tensor:
    """Class probabilities of scored outputs (float32, last axis = classes).

    Args:
        outputs: The outputs targets score (after `two_classes` for a binary head).
        head: `"softmax"`, `"sigmoid"` or `None`, from `head_of`.
        binary: Boolean. The outputs are `two_classes` of a single logit (or probability).
        logits: Boolean. The outputs are logits (else the model's own output values).
    """
    if binary:
        positive = outputs[..., 1:]
        p = tf.sigmoid(positive) if logits or head != "sigmoid" else positive
        return tf.concat([1.0 - p, p], axis=-1)
    if head == "sigmoid":
        return tf.sigmoid(outputs) if logits else outputs
    return tf.nn.softmax(outputs, axis=-1)


def probability_target(target: Target, engine: _ScoredHead) -> Target:
    """`target` scored on the probabilities of `engine`'s output (read while tracing).

    For dense outputs the score is divided by the target's score on an all-ones output
    (its pixel weight), giving the mean probability over its pixels, in [0, 1].
    """

    def to_probabilities(outputs: tf.Tensor) -> tf.Tensor:
        return probabilities(outputs, engine.head, binary=engine.binary, logits=engine.logits)

    return target.mean_over_pixels().on_outputs(to_probabilities, "probabilities")
