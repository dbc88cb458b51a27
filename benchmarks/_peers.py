"""Shared pieces of the benchmark scripts: the model, the inputs, one adapter per library.

Every adapter is built once with `make_explainer(library, method, model, ...)` and returns
a callable `explain(images, classes) -> numpy (B, H, W)`, so the callers time the same
thing for every library: explanation maps of the same layer for the same classes, ready
in numpy (which forces any pending device work to finish).

The peers (tf-keras-vis, xplique) are optional: a missing one raises `Unavailable`, and
so does a method a library does not have.
"""

import importlib
import os

LAYER = "conv5_block3_out"
LIBRARIES = ("tfxai", "tf-keras-vis", "xplique")
PEERS = LIBRARIES[1:]

# method -> tfxai class twin. `fem` is xplique's only other CAM-family method; tfxai has
# no counterpart, it is listed so the peer's whole family is covered.
TFXAI_CLASSES = {
    "grad_cam": "GradCAM",
    "grad_cam_plus_plus": "GradCAMPlusPlus",
    "xgrad_cam": "XGradCAM",
    "layer_cam": "LayerCAM",
    "hires_cam": "HiResCAM",
    "eigen_cam": "EigenCAM",
    "score_cam": "ScoreCAM",
    "ablation_cam": "AblationCAM",
}
# method -> (module, class, replace the softmax by a linear output?). tf-keras-vis itself
# recommends ReplaceToLinear for every method except Score-CAM.
TKV_CLASSES = {
    "grad_cam": ("tf_keras_vis.gradcam", "Gradcam", True),
    "grad_cam_plus_plus": ("tf_keras_vis.gradcam_plus_plus", "GradcamPlusPlus", True),
    "layer_cam": ("tf_keras_vis.layercam", "Layercam", True),
    "score_cam": ("tf_keras_vis.scorecam", "Scorecam", False),
}
XPLIQUE_CLASSES = {
    "grad_cam": "GradCAM",
    "grad_cam_plus_plus": "GradCAMPP",
    "fem": "FEM",
}
METHODS = tuple(TFXAI_CLASSES) + ("fem",)
TOP_N_METHODS = ("score_cam", "ablation_cam")


class Unavailable(Exception):
    """The library is not installed, or it has no such method."""


def quiet_tensorflow():
    """Sets the environment for a quiet TF backend; call before importing TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def disable_progress_bars():
    """Silences Keras progress bars (tf-keras-vis Score-CAM calls `model.predict`)."""
    import keras

    keras.utils.disable_interactive_logging()


def versions():
    """Returns `{name: version}` for the stack and each library ("n/a: why" if missing)."""
    import keras
    import tensorflow as tf

    found = {"tensorflow": tf.__version__, "keras": keras.__version__}
    for name, module in (
        ("tfxai", "tfxai"),
        ("tf-keras-vis", "tf_keras_vis"),
        ("xplique", "xplique"),
    ):
        try:
            found[name] = getattr(importlib.import_module(module), "__version__", "?")
        except Exception as error:  # a broken peer must not stop the benchmark
            found[name] = f"n/a ({type(error).__name__}: {error})"
    return found


def build_resnet50(seed=0):
    """ResNet50 classifier (softmax head), random weights seeded by `seed`, 224 px."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.applications.ResNet50(weights=None)


def make_images(batch, seed=0):
    """`batch` random 224x224 RGB images, ResNet50-preprocessed, float32 numpy."""
    import keras
    import numpy as np

    pixels = np.random.default_rng(seed).uniform(0, 255, (batch, 224, 224, 3))
    return keras.applications.resnet50.preprocess_input(pixels.astype("float32"))


def fixed_classes(batch, seed=0, classes=1000):
    """`batch` seeded class ids: the cost of a CAM does not depend on which class."""
    import numpy as np

    return [int(c) for c in np.random.default_rng(seed).integers(0, classes, batch)]


def predicted_classes(forward, images):
    """Class ids predicted by `forward(images)`, as a list of ints."""
    return [int(c) for c in forward(images).numpy().argmax(axis=-1)]


def make_explainer(library, method, model, *, batch, top_n=None, pass_batch=32):
    """Builds `library`'s explainer of `method` for `model` at layer `LAYER`.

    Args:
        library: One of `LIBRARIES`.
        method: One of `METHODS`.
        model: The Keras model (peers may clone it; tfxai never does).
        batch: Integer, images per call (xplique's `batch_size`).
        top_n: Integer or None, channels scored by Score-CAM / Ablation-CAM (None: all).
        pass_batch: Integer, default 32, forward passes per chunk where a library has
            that knob for masked/ablated inputs (tfxai `batch_size`, tf-keras-vis
            Score-CAM `batch_size`).

    Returns:
        A callable `explain(images, classes) -> numpy (B, H, W)`.

    Raises:
        Unavailable: the library is missing or has no such method.
    """
    builders = {"tfxai": _tfxai, "tf-keras-vis": _tf_keras_vis, "xplique": _xplique}
    if library not in builders:
        raise ValueError(f"library: expected one of {LIBRARIES}, got {library!r}.")
    return builders[library](method, model, batch=batch, top_n=top_n, pass_batch=pass_batch)


def _import(module, library):
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise Unavailable(f"{library} not installed ({error})") from error


def _tfxai(method, model, *, batch, top_n, pass_batch):
    if method not in TFXAI_CLASSES:
        raise Unavailable(f"tfxai has no {method}")
    tfxai = _import("tfxai", "tfxai")
    cls = getattr(tfxai, TFXAI_CLASSES[method])
    options = {"top_n": top_n} if method in TOP_N_METHODS else {}
    explainer = cls(model, layer=LAYER, **options)
    size = max(batch, pass_batch)

    def explain(images, classes):
        return explainer(images, list(classes), batch_size=size)

    return explain


def _tf_keras_vis(method, model, *, batch, top_n, pass_batch):
    if method not in TKV_CLASSES:
        raise Unavailable(f"tf-keras-vis has no {method}")
    module, name, linear = TKV_CLASSES[method]
    cls = getattr(_import(module, "tf-keras-vis"), name)
    scores = _import("tf_keras_vis.utils.scores", "tf-keras-vis")
    if linear:
        modifiers = _import("tf_keras_vis.utils.model_modifiers", "tf-keras-vis")
        visualizer = cls(model, model_modifier=modifiers.ReplaceToLinear(), clone=True)
    else:
        visualizer = cls(model)
    # seek_penultimate_conv_layer=False: otherwise tf-keras-vis walks back from
    # conv5_block3_out (an Activation) to the last Conv2D and explains another layer.
    options = {"penultimate_layer": LAYER, "seek_penultimate_conv_layer": False}
    if method == "score_cam":
        options.update(max_N=top_n, batch_size=pass_batch)

    def explain(images, classes):
        return visualizer(scores.CategoricalScore(list(classes)), images, **options)

    return explain


def _xplique(method, model, *, batch, top_n, pass_batch):
    del top_n, pass_batch  # xplique has no Score-CAM / Ablation-CAM
    if method not in XPLIQUE_CLASSES:
        raise Unavailable(f"xplique has no {method}")
    attributions = _import("xplique.attributions", "xplique")
    explainer = getattr(attributions, XPLIQUE_CLASSES[method])(
        model, batch_size=batch, conv_layer=LAYER
    )
    classes_count = model.outputs[0].shape[-1]

    def explain(images, classes):
        import tensorflow as tf

        one_hot = tf.one_hot(list(classes), classes_count)
        return explainer.explain(images, one_hot).numpy()[..., 0]

    return explain


def ratios(seconds, reference, label):
    """`{lib}/{label}` (time over `seconds[reference]`) for every library, and
    `{peer}/tfxai` for every peer, where timed."""
    found = {}
    for library in LIBRARIES:
        if library in seconds:
            found[f"{library}/{label}"] = seconds[library] / seconds[reference]
    if "tfxai" in seconds:
        for peer in PEERS:
            if peer in seconds:
                found[f"{peer}/tfxai"] = seconds[peer] / seconds["tfxai"]
    return found
