"""`tfxai explain-dataset MODEL IMAGE_DIR OUT`: the same shards as the API, clean errors."""

import numpy as np
import pytest
from PIL import Image

import tfxai
from tests.cli.helpers import run_bare, run_cli
from tfxai.commands import catalog
from tfxai.datasets import make_shapes
from tfxai.models import zoo
from tfxai.scale import per_image


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("images")
    for i, image in enumerate(make_shapes(12, seed=9).images):
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path / f"{i:02d}.png")
    return path


def test_the_metric_table_is_the_faithfulness_metrics():
    assert catalog.DATASET_METRICS == per_image.FAITHFULNESS


@pytest.mark.slow
def test_writes_what_the_api_writes_and_resumes(folder, tmp_path):
    out = tmp_path / "out"
    args = ["explain-dataset", "shapes-classifier", folder, out, "--metrics", "deletion"]
    args += ["--shard-size", "8", "--batch-size", "4", "--no-progress"]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "12 images explained with grad_cam" in done.stdout
    assert "mean per image: deletion 0." in done.stdout
    assert "Traceback" not in done.stderr
    res = tfxai.load_explanations(str(out))
    api = tfxai.explain_dataset(
        zoo.load("shapes-classifier"),
        str(folder),
        "grad_cam",
        tmp_path / "api",
        metrics=["deletion"],
        shard_size=8,
        batch_size=4,
        progress=False,
    )
    np.testing.assert_array_equal(res[:], api[:])
    np.testing.assert_array_equal(res.metrics["deletion"], api.metrics["deletion"])
    again = run_cli(*args)  # complete: nothing redone, same summary
    assert again.returncode == 0 and again.stdout == done.stdout
    refused = run_cli(*args, "--method", "hires_cam")
    assert refused.returncode == 2
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("tfxai explain-dataset: error: OUT: ")
    assert 'settings.method: "grad_cam" before, "hires_cam" now' in last
    assert last.endswith("use another OUT, or --overwrite to discard them.")


BAD = [
    (["--metrics", "iou"], "--metrics: unknown metric 'iou'"),
    (["--method", "grad_kam"], "--method"),
    (["--target", "cat"], "--target: expected 'predicted'"),
    (["--runner", "spark"], "argument --runner: invalid choice"),
]


@pytest.mark.parametrize("extra, message", BAD, ids=[b[1][:20] for b in BAD])
def test_cheap_errors_are_one_line_before_tensorflow(folder, tmp_path, extra, message):
    result, report = run_bare("explain-dataset", "shapes-classifier", folder, tmp_path, *extra)
    assert result.returncode == 2 or report.get("status") == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert report == {} or not report["tensorflow"]


def test_a_missing_folder_is_named(tmp_path):
    result, report = run_bare("explain-dataset", "shapes-classifier", tmp_path / "no", tmp_path)
    assert report["status"] == 2 and not report["tensorflow"]
    assert "IMAGE_DIR: " in result.stderr and "is not a folder of image files" in result.stderr


@pytest.mark.slow
def test_runner_beam_writes_the_same_shards(folder, tmp_path):
    pytest.importorskip("apache_beam")
    args = ["shapes-classifier", folder, "--shard-size", "8", "--batch-size", "4"]
    beam = run_cli("explain-dataset", *args[:2], tmp_path / "beam", *args[2:], "--runner", "beam")
    assert beam.returncode == 0, beam.stderr[-2000:]
    assert "12 images explained with grad_cam" in beam.stdout
    direct = run_cli("explain-dataset", *args[:2], tmp_path / "direct", *args[2:], "--no-progress")
    assert direct.returncode == 0, direct.stderr[-2000:]
    one, two = (tfxai.load_explanations(str(tmp_path / n)) for n in ("beam", "direct"))
    assert one.manifest["settings"]["runner"] == "beam"
    assert [e["sha256"] for e in one.manifest["shards"]] == [
        e["sha256"] for e in two.manifest["shards"]
    ]
    refused = run_cli("explain-dataset", "resnet50", folder, tmp_path / "r", "--runner", "beam")
    assert refused.returncode == 2
    assert "--runner: beam loads the model from a file" in refused.stderr
