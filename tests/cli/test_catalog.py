"""The static tables the CLI checks before TensorFlow agree with the registries."""

import tfxai
from tfxai import cli, methods, models
from tfxai.commands import catalog, methods_table
from tfxai.viz.deprocess import MODES


def test_method_table_is_the_registry():
    assert list(catalog.METHOD_LAYERS) == list(methods.METHODS)
    for name, cls in methods.METHODS.items():
        assert catalog.METHOD_LAYERS[name] == methods.takes_layer(cls), name


def test_zoo_and_preprocess_tables():
    assert list(catalog.ZOO_MODELS) == models.available()
    assert set(catalog.PREPROCESS_MODES) == {"none", *MODES}
    assert cli.__version__ == tfxai.__version__


def test_closest_name():
    assert catalog.closest("gradcam", catalog.METHOD_LAYERS) == "grad_cam"
    assert catalog.closest("zzzz", catalog.METHOD_LAYERS) is None


def test_methods_rows_come_from_the_registry():
    rows = {row[0]: row for row in methods_table.rows()}
    assert list(rows) == list(methods.METHODS)
    assert rows["grad_cam"][1:3] == ("Grad-CAM", "yes")
    assert rows["grad_cam"][4] == "https://arxiv.org/abs/1610.02391"
    assert "layer" in rows["grad_cam"][3] and "batch_size" in rows["grad_cam"][3]
    assert rows["integrated_gradients"][2] == "no"
    assert "return_delta" in rows["integrated_gradients"][3]
    assert all(row[4].startswith("http") for row in rows.values()), rows
