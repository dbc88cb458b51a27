"""The bundled zoo: shipped files load and reach their recorded targets on fresh data."""

import numpy as np
import pytest

from tfxai import models
from tfxai.datasets import make_shapes
from tfxai.datasets import shapes as shapes_lib

N = 300
SEED = 4242  # neither the training seed (0) nor the recorded held-out seed (1000)


def test_available_and_bad_name():
    assert models.available() == ["shapes-classifier", "shapes-gap-classifier", "shapes-unet"]
    with pytest.raises(ValueError, match="shapes-clasifier.*shapes-classifier.*shapes-unet"):
        models.load("shapes-clasifier")
    with pytest.raises(ValueError, match="name"):
        models.info("resnet")


def test_files_are_small_and_recorded():
    records = models.info()
    for name in models.available():
        file = models.zoo.path(name)
        assert file.is_file() and file.stat().st_size <= 5 * 2**20
        record = records[name]
        assert record["heldout"]["seed"] != record["train"]["seed"]
        assert record["heldout"]["seed"] != SEED and record["train"]["seed"] != SEED


def test_shapes_classifier_accuracy_on_fresh_heldout():
    model = models.load("shapes-classifier")
    data = make_shapes(N, seed=SEED)
    accuracy = models.accuracy(model, data.images, data.labels)
    assert accuracy >= 0.97
    assert models.info("shapes-classifier")["heldout"]["accuracy"] >= 0.97


def test_shapes_gap_classifier_accuracy_on_fresh_heldout():
    """The conventional classifier, trained on labels only, on the default shapes (clutter)."""
    model = models.load("shapes-gap-classifier")
    data = make_shapes(N, seed=SEED)
    accuracy = models.accuracy(model, data.images, data.labels)
    print(f"shapes-gap-classifier accuracy, {N} fresh images: {accuracy:.3f}")
    assert accuracy >= 0.97
    record = models.info("shapes-gap-classifier")
    assert record["heldout"]["accuracy"] >= 0.97
    assert "class_map_weight" not in record["train"]  # no mask loss in its recipe
    assert record["file"] == "shapes-gap-classifier.keras"
    assert record["train"]["command"] == (
        "python -m tfxai.models.train --model shapes-gap-classifier --seed 0"
    )
    assert record["bytes"] == models.zoo.path("shapes-gap-classifier").stat().st_size


def test_shapes_unet_mean_iou_on_fresh_heldout():
    model = models.load("shapes-unet")
    images, _, classmap = shapes_lib.render(N, seed=SEED, task="segmentation")
    miou, per_class = models.mean_iou(model, images, classmap)
    assert per_class.shape == (6,)
    assert miou >= 0.85
    assert models.info("shapes-unet")["heldout"]["mean_iou"] >= 0.85


def test_mean_iou_definition():
    truth = np.array([[0, 0, 1, 1]])
    predicted = np.array([[0, 1, 1, 1]])
    matrix = models.evaluate.confusion(predicted, truth, 2)
    np.testing.assert_array_equal(matrix, [[1, 1], [0, 2]])
    np.testing.assert_allclose(models.evaluate.iou_from_confusion(matrix), [1 / 2, 2 / 3])


def test_every_asset_is_shipped_in_the_wheel():
    """Each file under models/assets matches a `package_data` pattern of setup.cfg (a
    non-editable install once lacked zoo.json)."""
    import configparser
    import fnmatch
    from pathlib import Path

    root = Path(models.zoo.__file__).resolve().parents[2]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["tfxai"].split(",")]
    assets = sorted(
        p.relative_to(root / "tfxai").as_posix()
        for p in (root / "tfxai" / "models" / "assets").iterdir()
    )
    missing = [a for a in assets if not any(fnmatch.fnmatch(a, p) for p in patterns)]
    assert "models/assets/zoo.json" in assets and missing == []


def test_a_missing_manifest_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(models.zoo, "ASSETS", tmp_path)
    with pytest.raises(FileNotFoundError, match="manifest is missing"):
        models.info()
    (tmp_path / models.zoo.METRICS_FILE).write_text('{"shapes-unet": {"heldout": {}}}')
    with pytest.raises(ValueError, match="'shapes-classifier' has no record"):
        models.info("shapes-classifier")
    assert models.info("shapes-unet") == {"heldout": {}}


TWICE = """
import sys
import keras
import numpy as np
from tfxai.models import train

weights = []
for run in ("a", "b"):
    train.train("shapes-gap-classifier", seed=0, out=sys.argv[1] + "/" + run, n=64,
                epochs=1, heldout_n=8, verbose=0)
    model = keras.saving.load_model(sys.argv[1] + f"/{run}/shapes-gap-classifier.keras")
    weights.append(model.get_weights())
same = all(np.array_equal(a, b) for a, b in zip(*weights))
keras.utils.set_random_seed(0)  # as train() does before it builds the model
initial = train._build(train.RECIPES["shapes-gap-classifier"]).get_weights()
moved = not np.array_equal(weights[0][0], initial[0])
print("same", same, "moved", moved)
print(train._command("shapes-gap-classifier", 0, 64, 1, 8, True,
                     train.RECIPES["shapes-gap-classifier"]))
"""


@pytest.mark.slow
def test_gap_classifier_training_is_deterministic(tmp_path):
    """The recipe, cut to 64 images and one epoch, run twice in one fresh process (op
    determinism is process-wide): the same weights, which training did change."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(models.zoo.__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", TWICE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "same True moved True" in result.stdout
    command = "--model shapes-gap-classifier --seed 0 --n 64 --epochs 1 --heldout-n 8"
    assert f"python -m tfxai.models.train {command}" in result.stdout
