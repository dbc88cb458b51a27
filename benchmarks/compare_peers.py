"""How close tfxai's maps are to tf-keras-vis, xplique and pytorch-grad-cam, method by method.

Every library explains the same model (the bundled shapes classifier; a torch mirror with
the Keras weights copied for pytorch-grad-cam), the same held-out images and the same
targets (the true labels). Both maps of a pair are min-max normalized to [0, 1] per image,
then compared: Pearson correlation (mean and minimum over the images), Spearman rank
correlation (mean) and the largest absolute difference.

Each comparison is run twice where a documented convention explains the gap: once with
tfxai's defaults, once with tfxai switched to the peer's convention (its formula, resize or
channel reduction), through tfxai's own engine (a subclass of the tfxai explainer that
changes only that choice). A correlation near 1 after the switch is the evidence that the
gap is the convention, not a bug. `docs/differences.md` explains each row.

Setup (tf-keras-vis, xplique as benchmarks/README.md says; pytorch-grad-cam optional):

    pip install -r benchmarks/requirements.txt && pip install --no-deps xplique==2.0.2
    pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu
    pip install --no-deps grad-cam==1.5.7 ttach

Usage:

    python benchmarks/compare_peers.py                 # 16 images, every peer installed
    python benchmarks/compare_peers.py --json benchmarks/results/compare_peers.json
"""

import argparse
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from _record import write_json  # noqa: E402

_peers.quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy import ndimage, stats  # noqa: E402

import tfxai  # noqa: E402
from tfxai.cam import base  # noqa: E402

LAYER = "block4_out"  # 24 x 24 at the classifier's 96 px input: every CAM is upsampled 4x
RISE_MASKS = 1000
OCCLUSION = {"patch": 16, "stride": 8}


# --------------------------------------------------------------------------- measures


def unit(maps):
    """Per-map min-max to [0, 1] (float64); a constant map becomes zeros."""
    maps = np.nan_to_num(np.asarray(maps, np.float64))
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)


def compare(ours, theirs):
    """Pearson (mean, min), Spearman (mean) and max |diff| of two normalized map batches."""
    ours, theirs = unit(ours), unit(theirs)
    pearson, spearman = [], []
    for a, b in zip(ours, theirs):
        a, b = a.ravel(), b.ravel()
        pearson.append(np.corrcoef(a, b)[0, 1] if a.std() and b.std() else np.nan)
        spearman.append(stats.spearmanr(a, b)[0] if a.std() and b.std() else np.nan)
    return {
        "pearson_mean": float(np.nanmean(pearson)),
        "pearson_min": float(np.nanmin(pearson)),
        "spearman_mean": float(np.nanmean(spearman)),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
    }


# --------------------------------------------------------------------------- resizes


def resize_half_pixel(maps, size):
    """tfxai's resize: bilinear with half-pixel centers (`tf.image.resize`)."""
    return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0].numpy()


def resize_corner_aligned(maps, size):
    """tf-keras-vis' resize: `scipy.ndimage.zoom(order=1)`, corner-aligned linear."""
    factors = (1, size[0] / maps.shape[1], size[1] / maps.shape[2])
    return ndimage.zoom(maps, factors, order=1)


def resize_bicubic(maps, size):
    """xplique's resize: `tf.image.resize(..., BICUBIC)` (half-pixel, may overshoot)."""
    return tf.image.resize(maps[..., None], size, method="bicubic")[..., 0].numpy()


def resize_normalize_first(maps, size):
    """pytorch-grad-cam's order: ReLU and min-max at the layer, then bilinear (cv2)."""
    return resize_half_pixel(unit(np.maximum(maps, 0)).astype(np.float32), size)


# --------------------------------------------------------------------------- conventions


def tkv_plus_plus_weights(activations, gradients, scores):
    """tf-keras-vis Grad-CAM++: the derivatives of exp(score), alphas normalized."""
    factor = tf.exp(scores)[:, None, None, None]
    first, second = factor * gradients, factor * gradients**2
    third = second * gradients
    denominator = 2.0 * second + third * base.spatial_sum(activations)
    alpha = second / (denominator + tf.cast(second == 0.0, tf.float32))
    norm = base.spatial_sum(alpha)
    alpha = alpha / (norm + tf.cast(norm == 0.0, tf.float32))
    return base.spatial_sum(tf.nn.relu(first) * alpha)


def xplique_plus_plus_weights(activations, gradients, scores):
    """xplique GradCAMPP: the *mean* activation in the denominator, no alpha normalization."""
    del scores
    square = gradients**2
    denominator = 2.0 * square + gradients**3 * tf.reduce_mean(
        activations, axis=[1, 2], keepdims=True
    )
    denominator += tf.cast(denominator == 0.0, tf.float32) * 1e-7
    return tf.reduce_mean(square / denominator * tf.nn.relu(gradients), [1, 2], keepdims=True)


def pgc_plus_plus_weights(activations, gradients, scores):
    """pytorch-grad-cam GradCAMPlusPlus: eps 1e-6 in the denominator, no alpha normalization."""
    del scores
    square = gradients**2
    alpha = square / (2.0 * square + base.spatial_sum(activations) * square * gradients + 1e-6)
    alpha = tf.where(gradients != 0.0, alpha, 0.0)
    return base.spatial_sum(tf.nn.relu(gradients) * alpha)


def pgc_eigen_projection(activations):
    """pytorch-grad-cam Eigen-CAM: centered SVD, projection sign as numpy's SVD returns it."""
    found = []
    for image in activations:
        flat = image.reshape(-1, image.shape[-1])
        flat = flat - flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat, full_matrices=True)
        found.append((flat @ vt[0]).reshape(image.shape[:2]))
    return np.float32(found)


def with_convention(cls, *, weights=None, resize=None, layer_map=None):
    """A subclass of tfxai's `cls` whose maps follow a peer's convention.

    Args:
        cls: A tfxai gradient CAM class (`tfxai.GradCAMPlusPlus`, ...).
        weights: Callable `(activations, gradients, scores) -> weights`, or None (tfxai's).
        resize: Callable `(layer maps, size) -> maps` applied to the layer-resolution map
            `relu(sum_k w_k A_k)`, or None (tfxai's half-pixel bilinear).
        layer_map: Callable `(activations numpy) -> (B, h, w)` replacing the whole weighted
            sum (Eigen-CAM's projection), or None.
    """
    resize = resize or resize_half_pixel

    class Convention(cls):
        def explain_batch(self, batch, target, params, batch_size, offset=0):
            def graph(inputs, params):
                tape, scores, outputs = self.engine.scores_and_outputs(inputs, target, params)
                activations = base.spatial_activations(outputs, self.engine.layer_path)
                if layer_map is not None:
                    return activations
                gradients = tf.cast(tape.gradient(scores, outputs), tf.float32)
                scores = tf.cast(scores, tf.float32)
                w = (weights or (lambda a, g, s: self.weights(a, g)))(
                    activations, gradients, scores
                )
                return tf.nn.relu(tf.reduce_sum(w * activations, axis=-1))

            run = self.compiled(("convention", id(self)), graph, batch, params, target)
            small = run(tf.constant(batch), base.as_tensors(params)).numpy()
            if layer_map is not None:
                small = np.maximum(layer_map(small), 0)
            return resize(small, batch.shape[1:3])

    Convention.__name__ = f"{cls.__name__}Convention{id(Convention)}"
    return Convention


class AblationDividedByScore(tfxai.AblationCAM):
    """Ablation-CAM as in the paper and pytorch-grad-cam: the drop divided by the score."""

    def channel_weights(self, scores, base_scores):
        return (base_scores - scores) / base_scores


# --------------------------------------------------------------------------- the case


def load_case(count, seed):
    model = tfxai.models.load("shapes-classifier")
    data = tfxai.datasets.make_shapes(count, seed=seed, task="classification")
    return model, data.images.astype(np.float32), [int(c) for c in data.labels]


def tfxai_cam(cls, model, images, labels, **options):
    return cls(model, layer=LAYER, **options)(images, labels)


# --------------------------------------------------------------------------- tf-keras-vis


def rows_tf_keras_vis(model, images, labels):
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.layercam import Layercam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import GuidedBackpropagation
    from tf_keras_vis.utils.scores import CategoricalScore

    score = CategoricalScore(labels)
    options = {"penultimate_layer": LAYER, "seek_penultimate_conv_layer": False}
    rows = []

    def cam_rows(method, peer_cls, cls, extra=None, switches=()):
        theirs = np.asarray(peer_cls(model, clone=False)(score, images, **options, **(extra or {})))
        rows.append((method, "default", compare(tfxai_cam(cls, model, images, labels), theirs)))
        for name, variant in switches:
            ours = tfxai_cam(variant, model, images, labels)
            rows.append((method, name, compare(ours, theirs)))

    corner = with_convention(tfxai.GradCAM, resize=resize_corner_aligned)
    cam_rows("grad_cam", Gradcam, tfxai.GradCAM, switches=[("zoom resize", corner)])
    exp_score = with_convention(tfxai.GradCAMPlusPlus, weights=tkv_plus_plus_weights)
    both = with_convention(
        tfxai.GradCAMPlusPlus, weights=tkv_plus_plus_weights, resize=resize_corner_aligned
    )
    cam_rows(
        "grad_cam_plus_plus",
        GradcamPlusPlus,
        tfxai.GradCAMPlusPlus,
        switches=[("exp(score)", exp_score), ("exp(score) + zoom resize", both)],
    )
    layer = with_convention(tfxai.LayerCAM, resize=resize_corner_aligned)
    cam_rows("layer_cam", Layercam, tfxai.LayerCAM, switches=[("zoom resize", layer)])
    cam_rows("score_cam", Scorecam, tfxai.ScoreCAM, extra={"max_N": -1})

    saliency = Saliency(model, clone=False)
    rows.append(
        (
            "saliency",
            "default",
            compare(tfxai.saliency(model, images, labels), saliency(score, images)),
        )
    )
    theirs = saliency(score, images, smooth_samples=50, smooth_noise=0.2)
    ours = tfxai.smooth_grad(model, images, labels, samples=50, noise=0.2)
    rows.append(("smooth_grad", "default", compare(ours, theirs)))
    guided = Saliency(model, model_modifier=GuidedBackpropagation(), clone=True)
    theirs = guided(score, images)
    # tf-keras-vis guides only layers whose `activation` is relu, not `keras.layers.ReLU`
    # layers (all of this classifier's), so its map is the plain gradient here.
    plain = compare(tfxai.saliency(model, images, labels), theirs)
    rows.append(("guided_backprop", "plain gradient (no guided ReLU)", plain))
    rows.append(
        (
            "guided_backprop",
            "default",
            compare(tfxai.guided_backprop(model, images, labels), theirs),
        )
    )
    return [("tf-keras-vis",) + row for row in rows]


# --------------------------------------------------------------------------- xplique


def same_weights_copy(model):
    """A copy of `model` (xplique's Grad-CAM leaves a patched `call` on its layer)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def rows_xplique(model, images, labels):
    import xplique.attributions as X

    one_hot = tf.one_hot(labels, model.outputs[0].shape[-1])
    rows = []

    def run(explainer):
        found = np.asarray(explainer.explain(images, one_hot))
        return found[..., 0] if found.ndim == 4 else found

    bicubic = with_convention(tfxai.GradCAM, resize=resize_bicubic)
    theirs = run(X.GradCAM(same_weights_copy(model), conv_layer=LAYER))
    rows.append(
        ("grad_cam", "default", compare(tfxai_cam(tfxai.GradCAM, model, images, labels), theirs))
    )
    rows.append(
        ("grad_cam", "bicubic resize", compare(tfxai_cam(bicubic, model, images, labels), theirs))
    )

    theirs = run(X.GradCAMPP(same_weights_copy(model), conv_layer=LAYER))
    plus = tfxai.GradCAMPlusPlus
    formula = with_convention(plus, weights=xplique_plus_plus_weights)
    both = with_convention(plus, weights=xplique_plus_plus_weights, resize=resize_bicubic)
    for name, cls in (
        ("default", plus),
        ("mean-activation alphas", formula),
        ("alphas + bicubic", both),
    ):
        rows.append(
            ("grad_cam_plus_plus", name, compare(tfxai_cam(cls, model, images, labels), theirs))
        )

    def attribution(method, theirs, default, switched=None, name=None):
        rows.append((method, "default", compare(default, theirs)))
        if switched is not None:
            rows.append((method, name, compare(switched, theirs)))

    attribution("saliency", run(X.Saliency(model)), tfxai.saliency(model, images, labels))
    attribution(
        "gradient_x_input",
        run(X.GradientInput(model)),
        tfxai.gradient_x_input(model, images, labels),
        tfxai.gradient_x_input(model, images, labels, keep_sign=True, reduce="mean"),
        "signed, channel mean",
    )
    attribution(
        "integrated_gradients",
        run(X.IntegratedGradients(model, steps=50)),
        tfxai.integrated_gradients(model, images, labels, steps=50),
        tfxai.integrated_gradients(model, images, labels, steps=50, keep_sign=True, reduce="mean"),
        "signed, channel mean",
    )
    attribution(
        "guided_backprop",
        run(X.GuidedBackprop(model)),
        tfxai.guided_backprop(model, images, labels),
        tfxai.guided_backprop(model, images, labels, keep_sign=True, reduce="mean"),
        "signed, channel mean",
    )
    for method, peer in (
        ("smooth_grad", X.SmoothGrad),
        ("var_grad", X.VarGrad),
        ("square_grad", X.SquareGrad),
    ):
        tf.random.set_seed(0)
        theirs = run(peer(model, nb_samples=50, noise=0.2))
        fn = getattr(tfxai, method)
        attribution(
            method,
            theirs,
            fn(model, images, labels, samples=50, noise=0.2),
            fn(model, images, labels, samples=50, noise=0.2, keep_sign=True, reduce="mean"),
            "signed, channel mean",
        )
    theirs = run(
        X.Occlusion(model, patch_size=OCCLUSION["patch"], patch_stride=OCCLUSION["stride"])
    )
    attribution("occlusion", theirs, tfxai.occlusion(model, images, labels, **OCCLUSION))
    tf.random.set_seed(0)
    theirs = run(X.Rise(model, nb_samples=RISE_MASKS))
    attribution("rise", theirs, tfxai.rise(model, images, labels, masks=RISE_MASKS))
    return [("xplique",) + row for row in rows]


# --------------------------------------------------------------------------- pytorch-grad-cam


def torch_mirror(model):
    """A torch module computing `model` (the shapes classifier's layer kinds) with its weights.

    Runs the Keras functional graph layer by layer: Conv2D (HWIO kernels copied as OIHW,
    TensorFlow's 'same' padding, asymmetric for strided convolutions, written out),
    BatchNormalization (inference), ReLU, Add, Rescaling, GlobalMaxPooling2D. Modules live
    in a ModuleDict so pytorch-grad-cam can hook (or swap) the explained one.
    """
    import torch
    import torch.nn.functional as F

    class Mirror(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.nodes = []  # (layer name, kind, input tensor names, output name, config)
            self.layers = torch.nn.ModuleDict()
            for layer in model.layers:
                kind = type(layer).__name__
                if kind == "InputLayer":
                    self.input_name = layer.output.name
                    continue
                inputs = layer._inbound_nodes[0].input_tensors
                config = layer.get_config()
                if kind == "Conv2D":
                    kernel = layer.get_weights()[0]
                    conv = torch.nn.Conv2d(
                        kernel.shape[2],
                        kernel.shape[3],
                        kernel.shape[:2],
                        config["strides"],
                        bias=False,
                    )
                    conv.weight.data = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
                    self.layers[layer.name] = conv
                elif kind == "BatchNormalization":
                    gamma, beta, mean, var = layer.get_weights()
                    bn = torch.nn.BatchNorm2d(len(gamma), eps=config["epsilon"])
                    for name, value in zip(
                        ("weight", "bias", "running_mean", "running_var"), (gamma, beta, mean, var)
                    ):
                        getattr(bn, name).data = torch.from_numpy(value.copy())
                    self.layers[layer.name] = bn
                elif kind == "ReLU":
                    self.layers[layer.name] = torch.nn.ReLU()
                elif kind not in ("Add", "Rescaling", "GlobalMaxPooling2D"):
                    raise ValueError(f"torch_mirror: no mirror for {kind} ({layer.name})")
                self.nodes.append(
                    (layer.name, kind, [t.name for t in inputs], layer.output.name, config)
                )
            self.output_name = model.outputs[0].name
            self.eval()

        def forward(self, x):
            values = {self.input_name: x}
            for name, kind, inputs, output, config in self.nodes:
                args = [values[i] for i in inputs]
                if kind == "Add":
                    y = args[0] + args[1]
                elif kind == "Rescaling":
                    y = args[0] * config["scale"] + config["offset"]
                elif kind == "GlobalMaxPooling2D":
                    y = args[0].amax(dim=(2, 3))
                elif kind == "Conv2D" and config["padding"] == "same":
                    y = self.layers[name](F.pad(args[0], same_padding(args[0].shape[2:], config)))
                else:
                    y = self.layers[name](args[0])
                values[output] = y
            return values[self.output_name]

    return Mirror()


def same_padding(size, config):
    """TensorFlow's 'same' padding `(left, right, top, bottom)`: the extra pixel after."""
    pads = []
    for extent, kernel, stride in zip(size, config["kernel_size"], config["strides"]):
        total = max((-(-extent // stride) - 1) * stride + kernel - extent, 0)
        pads.append((total // 2, total - total // 2))
    return [pads[1][0], pads[1][1], pads[0][0], pads[0][1]]


def rows_pytorch_grad_cam(model, images, labels):
    import pytorch_grad_cam as P
    import torch
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    torch.set_num_threads(2)
    mirror = torch_mirror(model)
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    with torch.no_grad():
        logits_gap = float(np.abs(mirror(x).numpy() - model(images).numpy()).max())
    if logits_gap > 1e-4:
        raise RuntimeError(f"the torch mirror's logits differ from Keras by {logits_gap:.2e}")
    targets = [ClassifierOutputTarget(c) for c in labels]
    target_layers = [mirror.layers[LAYER]]
    rows = []

    def peer(cls, **options):
        with cls(model=mirror, target_layers=target_layers, **options) as cam:
            if hasattr(cam, "batch_size"):
                cam.batch_size = 64
            return cam(input_tensor=x, targets=targets)

    plain = {
        "grad_cam": (P.GradCAM, tfxai.GradCAM),
        "hires_cam": (P.HiResCAM, tfxai.HiResCAM),
        "xgrad_cam": (P.XGradCAM, tfxai.XGradCAM),
        "layer_cam": (P.LayerCAM, tfxai.LayerCAM),
    }
    for method, (peer_cls, cls) in plain.items():
        theirs = peer(peer_cls)
        rows.append((method, "default", compare(tfxai_cam(cls, model, images, labels), theirs)))
        order = with_convention(cls, resize=resize_normalize_first)
        rows.append(
            (
                method,
                "normalize, then resize",
                compare(tfxai_cam(order, model, images, labels), theirs),
            )
        )

    theirs = peer(P.GradCAMPlusPlus)
    plus = tfxai.GradCAMPlusPlus
    formula = with_convention(plus, weights=pgc_plus_plus_weights)
    both = with_convention(plus, weights=pgc_plus_plus_weights, resize=resize_normalize_first)
    for name, cls in (
        ("default", plus),
        ("unnormalized alphas", formula),
        ("alphas + normalize first", both),
    ):
        rows.append(
            ("grad_cam_plus_plus", name, compare(tfxai_cam(cls, model, images, labels), theirs))
        )

    theirs = peer(P.EigenCAM)
    eigen = with_convention(
        tfxai.EigenCAM, layer_map=pgc_eigen_projection, resize=resize_normalize_first
    )
    rows.append(
        ("eigen_cam", "default", compare(tfxai_cam(tfxai.EigenCAM, model, images, labels), theirs))
    )
    rows.append(
        (
            "eigen_cam",
            "centered, numpy sign",
            compare(tfxai_cam(eigen, model, images, labels), theirs),
        )
    )

    theirs = peer(P.ScoreCAM)
    rows.append(
        ("score_cam", "default", compare(tfxai_cam(tfxai.ScoreCAM, model, images, labels), theirs))
    )

    theirs = peer(P.AblationCAM)
    rows.append(
        (
            "ablation_cam",
            "default",
            compare(tfxai_cam(tfxai.AblationCAM, model, images, labels), theirs),
        )
    )
    divided = tfxai_cam(AblationDividedByScore, model, images, labels)
    rows.append(("ablation_cam", "divided by the score", compare(divided, theirs)))
    return [("pytorch-grad-cam",) + row for row in rows], logits_gap


# --------------------------------------------------------------------------- main


def table(rows):
    lines = [
        "| method | peer | tfxai side | Pearson mean | Pearson min | Spearman mean "
        "| max abs diff |",
        "|---|---|---|---|---|---|---|",
    ]
    for peer, method, variant, m in sorted(rows, key=lambda r: (r[1], r[0])):
        lines.append(
            f"| {method} | {peer} | {variant} | {m['pearson_mean']:.4f} | {m['pearson_min']:.4f} "
            f"| {m['spearman_mean']:.4f} | {m['max_abs_diff']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=16, help="held-out images (default 16)")
    parser.add_argument("--seed", type=int, default=777, help="held-out image seed")
    parser.add_argument(
        "--peers", nargs="+", default=["tf-keras-vis", "xplique", "pytorch-grad-cam"]
    )
    parser.add_argument("--json", help="write the rows and a `recorded` stamp here")
    args = parser.parse_args(argv)
    _peers.disable_progress_bars()
    keras.utils.set_random_seed(0)
    model, images, labels = load_case(args.images, args.seed)
    rows, skipped, extra = [], {}, {}
    runners = {
        "tf-keras-vis": rows_tf_keras_vis,
        "xplique": rows_xplique,
        "pytorch-grad-cam": rows_pytorch_grad_cam,
    }
    for peer in args.peers:
        try:
            found = runners[peer](model, images, labels)
        except Exception as error:  # a missing or broken peer must not stop the others
            skipped[peer] = f"not run ({type(error).__name__}: {error})"
            continue
        if peer == "pytorch-grad-cam":
            found, extra["torch_logits_max_abs_diff"] = found
            import pytorch_grad_cam
            import torch

            extra["pytorch-grad-cam"] = getattr(pytorch_grad_cam, "__version__", "1.5.7")
            extra["torch"] = torch.__version__
        rows.extend(found)
    header = (
        f"Shapes classifier, {args.images} held-out images (seed {args.seed}), true labels, "
        f"CAM layer {LAYER}; maps min-max normalized per image before comparing."
    )
    print(header + "\n\n" + table(rows))
    for peer, why in skipped.items():
        print(f"\n{peer}: skipped, {why}")
    if args.json:
        records = [dict(peer=p, method=m, tfxai_side=v, **metrics) for p, m, v, metrics in rows]
        write_json(
            args.json,
            {"setup": header, "layer": LAYER, "rows": records, "skipped": skipped, **extra},
        )


if __name__ == "__main__":
    main()
