"""`import tfxai` is cheap: the flat API (and TensorFlow) load on first use."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_CHECK = """
import sys, warnings
import tfxai
assert "tensorflow" not in sys.modules, "import tfxai imported tensorflow"
assert tfxai.__version__
assert "grad_cam" in dir(tfxai) and "viz" in tfxai.__all__
cam = tfxai.grad_cam
assert "tensorflow" in sys.modules
assert cam is tfxai.cam.grad_cam and tfxai.clear_cache.__module__ == "tfxai._api"
assert all(hasattr(tfxai, name) for name in tfxai.__all__)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    assert tfxai.METHODS is tfxai.CAM_METHODS
assert caught and caught[0].category is DeprecationWarning
try:
    tfxai.no_such_name
except AttributeError as err:
    assert "no_such_name" in str(err)
else:
    raise AssertionError("tfxai.no_such_name did not raise")
print("ok")
"""


def test_import_is_lazy_and_the_api_loads_on_first_use():
    result = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "statement",
    [
        "from tfxai.featurevis import channel",
        "from tfxai.metrics import deletion",
        "from tfxai.callbacks import ExplanationCallback",
        "from tfxai.attribution import saliency",
        "import tfxai.cam",
        "from tfxai import viz, models",
    ],
)
def test_any_subpackage_can_be_imported_first(statement):
    """A subpackage imported first (which may run `from tfxai import viz` while it loads)
    must not pull the whole API in through the half-loaded package."""
    code = f"{statement}\nimport tfxai\nassert tfxai.grad_cam and tfxai.render\nprint('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
