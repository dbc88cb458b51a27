"""Running `tfxai` in a subprocess, from this worktree."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs `tfxai.cli` through the real package (`import tfxai` is lazy: it imports no
# TensorFlow), so a run shows whether the command itself imports TensorFlow. Prints a JSON
# line: the status, whether tensorflow was imported, and the seconds taken.
_BARE = """
import json, sys, time
start = time.perf_counter()
from tfxai import cli
status = cli.main(sys.argv[1:])
print(json.dumps({{"status": status, "tensorflow": "tensorflow" in sys.modules,
                  "seconds": time.perf_counter() - start}}))
"""


def env(unset=()):
    values = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in unset:
        values.pop(name, None)
    return values


def run_cli(*args, timeout=600):
    """`python -m tfxai.cli ARGS` from the worktree: the console command as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "tfxai.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env(),
    )


def run_bare(*args, timeout=600, unset=()):
    """`tfxai ARGS` in a fresh interpreter; returns (result, report dict).

    `unset`: environment variables the run does without (e.g. a `TF_CPP_MIN_LOG_LEVEL`
    the test session sets, which the command respects)."""
    code = _BARE.format()
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env(unset),
    )
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    return result, report


_TF_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:. ]+\d+ \S+\.cc:\d+\]")


def user_lines(stderr):
    """The lines of stderr, less TensorFlow's own log lines."""
    from tfxai.commands.quiet import _START_UP_LINE

    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not _START_UP_LINE.match(line) and not _TF_LOG_LINE.match(line)
    ]


def one_error_line(stderr):
    """The stderr of a failed run: exactly one line and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = user_lines(stderr)
    assert len(lines) == 1, stderr
    return lines[0]
