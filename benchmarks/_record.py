"""What a benchmark result was measured on, written next to the numbers.

Every script's `--json` goes through `write_json`, which adds a `recorded` block: the date,
the tfxai commit, the command line, the machine and the versions of the stack and peers.
A README table quoting a run can then be traced to its raw output in `benchmarks/results/`.
"""

import datetime
import json
import os
import platform
import subprocess
import sys


def commit():
    """The tfxai commit measured: `$BENCH_COMMIT` (set for snapshots), else `git`."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        found = subprocess.run(
            ["git", "-C", here, "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return "unknown"
    return found.stdout.strip() or "unknown"


def stamp():
    """`{date, commit, command, machine, cpus, python, versions}` for this process."""
    import _peers  # the benchmarks folder is on sys.path when a script runs

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": _peers.versions(),
    }


def write_json(path, payload):
    """Writes `payload` plus a `recorded` stamp as JSON, creating the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(dict(payload, recorded=stamp()), handle, indent=2, default=str)
    print(f"\nwrote {path}", file=sys.stderr)
