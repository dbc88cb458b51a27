"""CONTRIBUTING.md's worked examples, built from the guide's own code blocks.

Each `<!-- example: NAME -->` block is at most 20 lines, formatted and linted like the
code base, and the method it builds passes the same contract tests as every method of
the package (the CAM and attribution contract tests are called with the example
registered under its name; the objective goes through the render tests' gradient-ascent
check), plus a value check: a manual tape, a hand-computed gradient, a hand-computed
score.
"""

import ast
import pathlib
import re
import shutil
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfxai
import tfxai.attribution as A
from tests.attribution import models as attribution_models
from tests.attribution import test_contract as attribution_contract
from tests.cam import test_contract as cam_contract
from tests.cam import test_hand_computed as cam_hand
from tests.conftest import MODEL_KINDS, SIZE, assert_unchanged, snapshot
from tests.featurevis import test_objectives as objective_tests
from tests.featurevis import test_render as render_tests
from tests.featurevis.test_render import tiny  # noqa: F401 (the fixture, used by name)

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = ROOT / "CONTRIBUTING.md"
EXAMPLE = re.compile(r"^<!-- example: (\w+) -->\n```python\n(.*?)^```$", re.S | re.M)
MAX_LINES = 20
# Every model kind; the nested ResNet50 traces a full backbone: slow.
KINDS = [pytest.param(k, marks=pytest.mark.slow) if k == "nested" else k for k in MODEL_KINDS]


def examples():
    """`{name: code}` of the guide's marked Python blocks."""
    return dict(EXAMPLE.findall(GUIDE.read_text(encoding="utf-8")))


def build(name):
    """Executes the guide's block `name` in a fresh namespace; returns the callables it
    defines at the top level (classes, functions, assigned function forms), by name."""
    code = examples()[name]
    namespace = {"__name__": f"contributing_{name}"}
    exec(compile(code, f"{GUIDE.name}[example: {name}]", "exec"), namespace)
    defined = set()
    for node in ast.parse(code).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {key: namespace[key] for key in sorted(defined) if callable(namespace[key])}


def explainer_pair(name, base):
    """The example's explainer class (a subclass of `base`) and its function form."""
    defined = build(name).values()
    classes = [v for v in defined if isinstance(v, type) and issubclass(v, base)]
    functions = [v for v in defined if not isinstance(v, type)]
    assert len(classes) == 1 and len(functions) == 1, defined
    return classes[0], functions[0]


# --------------------------------------------------------------------------- the guide


def test_the_guide_has_the_three_examples_each_at_most_20_lines():
    found = examples()
    assert sorted(found) == ["attribution", "cam", "objective"]
    for name, code in found.items():
        lines = code.splitlines()
        assert len(lines) <= MAX_LINES, f"example {name!r} has {len(lines)} lines"
        assert lines[0].startswith(("import ", "from ")), name  # imports at the top


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
@pytest.mark.parametrize("name", ["cam", "attribution", "objective"])
def test_the_examples_are_formatted_and_linted_like_the_code(name):
    code = examples()[name]
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["format", "--check"], ["check"]):
        result = subprocess.run(
            ["ruff", *command, *config, "--stdin-filename", f"{name}.py", "-"],
            input=code,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- CAM


def count_calls(monkeypatch, cls, hook):
    """Wraps `cls.hook` so that the returned list grows by one per call (a trace counts)."""
    calls, original = [], getattr(cls, hook)

    def counted(self, *args):
        calls.append(type(self).__name__)
        return original(self, *args)

    monkeypatch.setattr(cls, hook, counted)
    return calls


@pytest.fixture
def cam_method(monkeypatch):
    """The example CAM, registered where the CAM contract test looks methods up; returns
    its name and the calls of its weighting function."""
    cls, function = explainer_pair("cam", tfxai.cam.CAM)
    monkeypatch.setitem(tfxai.CAM_METHODS, function.__name__, cls)
    monkeypatch.setattr(tfxai, function.__name__, function, raising=False)
    return function.__name__, count_calls(monkeypatch, cls, "weights")


@pytest.mark.parametrize("model_kind", KINDS, indirect=True)
def test_cam_example_meets_the_cam_contract(cam_method, model_kind, images, request):
    name, calls = cam_method
    cam_contract.test_every_method_on_every_model_kind(name, model_kind, images, request)
    # The contract ran the guide's own weighting function, not a method of the package.
    assert calls and set(calls) == {"NormGrad"}, calls


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_cam_example_equals_a_manual_tape_on_a_one_conv_model(activation):
    """NormGrad: `|A_ij| * |g_ij|`, norms over the channels, from a hand-written tape; the
    flatten head gives every position its own gradient."""
    cls, function = explainer_pair("cam", tfxai.cam.CAM)
    model = cam_hand.build_model("flatten", activation)
    x, targets = cam_hand.IMAGES, cam_hand.TARGETS
    activations = model.get_layer("conv")(x)
    with tf.GradientTape() as tape:
        tape.watch(activations)
        logits = model.get_layer("dense")(keras.layers.Flatten()(activations))
        scores = tf.gather(logits, targets, axis=1, batch_dims=1)
    gradients = tape.gradient(scores, activations).numpy().astype(np.float64)
    activations = activations.numpy().astype(np.float64)
    expected = np.linalg.norm(activations, axis=-1) * np.linalg.norm(gradients, axis=-1)
    assert np.ptp(expected, axis=(1, 2)).min() > 0  # non-constant maps

    maps = cls(model, layer="conv")(x, targets, normalize=False)
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        function(model, x, targets, layer="conv"), cam_hand.np_normalize(expected), atol=1e-5
    )


# --------------------------------------------------------------------------- attribution


@pytest.fixture
def attribution_method(monkeypatch):
    """The example attribution, registered where the attribution contract test looks."""
    cls, function = explainer_pair("attribution", A.GradientAttribution)
    monkeypatch.setitem(A.ATTRIBUTION_METHODS, function.__name__, cls)
    monkeypatch.setitem(attribution_contract.FUNCTIONS, function.__name__, function)
    return function.__name__, count_calls(monkeypatch, cls, "contributions")


@pytest.mark.parametrize("options", [{}, {"mu": 0.5}], ids=["mu=0", "mu=0.5"])
@pytest.mark.parametrize("kind", KINDS)
def test_attribution_example_meets_the_attribution_contract(
    attribution_method, kind, options, images, monkeypatch
):
    name, calls = attribution_method
    monkeypatch.setitem(attribution_contract.FAST, name, options)
    attribution_contract.test_every_method_on_every_model_kind(kind, name, images)
    # The contract ran the guide's own contributions (x SIGN), not gradient x input's.
    assert calls and set(calls) == {"GradientXSign"}, calls


@pytest.mark.parametrize("mu", [0.0, 0.5, -0.25])
def test_attribution_example_equals_a_hand_computed_gradient(mu):
    """Gradient x SIGN on the two-hidden-layer ReLU net: its gradient derived layer by
    layer in numpy, times `+1 where x >= mu, else -1`, per channel and summed."""
    cls, function = explainer_pair("attribution", A.GradientAttribution)
    model = attribution_models.relu_net()
    x = attribution_models.images()  # uniform in [-1, 1]
    x[0, :2] = 0.0  # dark pixels: gradient x input is blind to them, x SIGN is not
    classes = [2, 0]
    gradients = attribution_models.relu_net_gradients(x, classes, guided=False)
    expected = gradients * np.where(x >= mu, 1.0, -1.0)

    explainer = cls(model, mu=mu)
    np.testing.assert_allclose(explainer.attributions(x, classes), expected, rtol=1e-4, atol=1e-6)
    maps = function(model, x, classes, mu=mu, normalize=False)
    np.testing.assert_allclose(maps, expected.sum(-1), rtol=1e-4, atol=1e-6)
    assert np.abs(maps[0, :2]).min() > 0
    np.testing.assert_array_equal(A.gradient_x_input(model, x, classes)[0, :2], 0.0)
    smooth = A.smooth_grad(model, x, classes, method=cls(model, mu=mu), noise=0.0, samples=2)
    np.testing.assert_allclose(smooth, function(model, x, classes, mu=mu), atol=1e-5)


# --------------------------------------------------------------------------- objective


def objective_factory():
    (factory,) = build("objective").values()
    return factory


def test_objective_example_scores_by_hand():
    """On the objective tests' fixed activations of layer "conv" (3, 4, 5, 6)."""
    factory = objective_factory()
    vector = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    acts = objective_tests.ACTS.astype(np.float64)
    dot = acts @ (vector / np.linalg.norm(vector))
    cos = dot / (np.linalg.norm(acts, axis=-1) + 1e-4)
    for power in (1.0, 2.0):
        expected = (dot * np.maximum(cos, 0.1) ** power).mean(axis=(1, 2))
        got = objective_tests.score(factory("conv", vector, power=power))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="vector"):
        factory("conv", np.zeros(6))


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_gradient_ascent_raises_the_objective_example(tiny, power):  # noqa: F811
    factory = objective_factory()
    vector = np.linspace(-1.0, 1.0, 8)  # conv2 of the render tests' tiny model: 8 channels
    render_tests.test_gradient_ascent_raises_every_objective(
        tiny, lambda: factory("conv2", vector, power=power)
    )


@pytest.mark.parametrize("model_kind", KINDS, indirect=True)
def test_objective_example_renders_on_every_model_kind(model_kind, request):
    """As the render tests' model-kind check: `tfxai.render` raises it, model untouched."""
    model, options = model_kind
    layer = render_tests.LAYER_OF_KIND[request.node.callspec.params["model_kind"]]
    channels = tfxai.resolve_layer(model, layer).output.shape[-1]
    vector = np.random.default_rng(0).normal(size=channels)
    objective = objective_factory()(layer, vector)
    before = snapshot(model)
    start = tfxai.render(model, objective, size=SIZE, steps=0, batch=2, progress=False, **options)
    result = tfxai.render(model, objective, size=SIZE, steps=24, batch=2, progress=False, **options)
    assert result.images.shape == (2, SIZE, SIZE, 3) and result.images.dtype == np.float32
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert np.all(result.values > start.values)
    assert_unchanged(before, model)
