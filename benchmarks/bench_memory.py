"""Peak memory (RSS) of a whole process that builds ResNet50 and explains one batch.

Each scenario runs in a fresh Python process (this script re-invoked with `--child`), so
the number includes everything a user's script pays: importing TensorFlow and the
library, building ResNet50(weights=None), tracing, and the explanation itself. The child
reads its own high-water mark (VmHWM in /proc/self/status; ru_maxrss elsewhere) at the end
and reports it to this parent, which prints a table.

Setup:

    pip install -r benchmarks/requirements.txt && pip install --no-deps xplique==2.0.2

Usage:

    python benchmarks/bench_memory.py                    # baseline + Grad-CAM x 3 libraries
    python benchmarks/bench_memory.py --scorecam-all     # + tfxai Score-CAM, 2048 channels
    python benchmarks/bench_memory.py --tkv-scorecam-all # + tf-keras-vis Scorecam, capped

Scenarios (batch 8, layer conv5_block3_out, seeded random images and classes):
    baseline        build ResNet50 + one compiled forward pass
    tfxai           + one tfxai Grad-CAM             (goal: <= 1.0 GiB)
    tf-keras-vis    + one tf-keras-vis Gradcam       (measured in an earlier session: 2.2 GiB)
    xplique         + one xplique GradCAM            (measured in an earlier session: 0.97 GiB)
    tfxai-scorecam  tfxai Score-CAM over all 2048 channels (goal: <= 3 GiB; many minutes
                    on 2 cores; --scorecam-all)
    tkv-scorecam    tf-keras-vis Scorecam over all channels (--tkv-scorecam-all); its child
                    runs under an address-space limit (--as-limit-gib, default 8) so a
                    MemoryError is reported as "failed: ..." instead of exhausting the machine.
"""

import argparse
import collections
import json
import os
import resource
import signal
import subprocess
import sys
import time

# The helpers next to this file, and the checkout's tfxai ahead of any installed copy.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
import _peers  # noqa: E402
from _record import write_json  # noqa: E402

MARKER = "BENCH_MEMORY_RESULT "
KIB_PER_GIB = 2**20

Scenario = collections.namedtuple(
    "Scenario", "label library method top_n goal_gib reference flag capped"
)
SCENARIOS = {
    "baseline": Scenario("build ResNet50 + 1 forward", None, None, None, None, None, None, False),
    "tfxai": Scenario("+ tfxai GradCAM", "tfxai", "grad_cam", None, 1.0, None, None, False),
    "tf-keras-vis": Scenario(
        "+ tf-keras-vis Gradcam", "tf-keras-vis", "grad_cam", None, None, 2.2, None, False
    ),
    "xplique": Scenario("+ xplique GradCAM", "xplique", "grad_cam", None, None, 0.97, None, False),
    "tfxai-scorecam": Scenario(
        "tfxai ScoreCAM, all channels", "tfxai", "score_cam", None, 3.0, None, "scorecam_all", False
    ),
    "tkv-scorecam": Scenario(
        "tf-keras-vis Scorecam, all channels",
        "tf-keras-vis",
        "score_cam",
        None,
        None,
        None,
        "tkv_scorecam_all",
        True,
    ),
}


def parse_args(argv=None):
    """Command-line options (`--child` is internal: run one scenario and report)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scorecam-all",
        action="store_true",
        help="also run tfxai Score-CAM over all 2048 channels (slow)",
    )
    parser.add_argument(
        "--tkv-scorecam-all",
        action="store_true",
        help="also run tf-keras-vis Scorecam over all channels (capped)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SCENARIOS),
        metavar="SCENARIO",
        help=f"run just these scenarios ({', '.join(SCENARIOS)})",
    )
    parser.add_argument("--batch", type=int, default=8, help="images per batch (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--as-limit-gib",
        type=float,
        default=8.0,
        help="address-space cap of the capped scenarios (default 8 GiB)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3 * 3600,
        help="seconds before a scenario is killed (default 3 h)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--child", choices=list(SCENARIOS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- child


def peak_rss_kib():
    """High-water resident set size of this process, in KiB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def limit_address_space(gib):
    """Caps this process's virtual memory so a runaway allocation raises MemoryError."""
    limit = int(gib * KIB_PER_GIB * 1024)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def prepare_scenario(scenario, batch, seed):
    """Builds the model (and explainer) of `scenario`; returns its one call."""
    _peers.quiet_tensorflow()
    import tensorflow as tf

    _peers.disable_progress_bars()
    model = _peers.build_resnet50(seed)
    images = _peers.make_images(batch, seed)
    if scenario.library is None:
        run = tf.function(lambda x: model(x, training=False))
        return lambda: run(images).numpy()
    explain = _peers.make_explainer(
        scenario.library, scenario.method, model, batch=batch, top_n=scenario.top_n
    )
    classes = _peers.fixed_classes(batch, seed)
    return lambda: explain(images, classes)


def child_main(args):
    """Runs one scenario in this (fresh) process and prints a result line for the parent."""
    scenario = SCENARIOS[args.child]
    if scenario.capped:
        limit_address_space(args.as_limit_gib)
    result = {"status": "ok", "call_s": None}
    start = None
    try:
        call = prepare_scenario(scenario, args.batch, args.seed)
        start = time.perf_counter()
        call()
    except _peers.Unavailable as error:
        result["status"] = f"n/a ({error})"
    except Exception as error:  # MemoryError, ResourceExhaustedError, a broken peer...
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        result["status"] = f"failed: {type(error).__name__}: {(lines or [''])[-1][:160]}"
    if start is not None:
        result["call_s"] = time.perf_counter() - start
    result["peak_rss_kib"] = peak_rss_kib()
    print(MARKER + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- parent


def selected(args):
    """Scenario keys to run, in table order."""
    if args.only:
        return [key for key in SCENARIOS if key in args.only]
    return [key for key, s in SCENARIOS.items() if s.flag is None or getattr(args, s.flag)]


def spawn(key, args):
    """Runs scenario `key` in a fresh child process; returns its result dict."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        key,
        "--batch",
        str(args.batch),
        "--seed",
        str(args.seed),
        "--as-limit-gib",
        str(args.as_limit_gib),
    ]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=args.timeout
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        return {
            "status": f"failed: timeout after {args.timeout:.0f} s",
            "peak_rss_kib": None,
            "call_s": None,
            "wall_s": time.perf_counter() - start,
        }
    result = parse_result(done.stdout) or {
        "status": f"failed: {exit_reason(done.returncode)}; {last_line(done.stderr)}",
        "peak_rss_kib": None,
        "call_s": None,
    }
    result["wall_s"] = time.perf_counter() - start
    return result


def parse_result(stdout):
    """The child's result dict, or None if it died before reporting."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    return None


def exit_reason(code):
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else "no output"


def verdict(scenario, result):
    """PASS / FAIL against the goal, or "-" when the scenario has none."""
    if scenario.goal_gib is None:
        return "-"
    peak = result.get("peak_rss_kib")
    ok = result["status"] == "ok" and peak is not None and peak / KIB_PER_GIB <= scenario.goal_gib
    return "PASS" if ok else "FAIL"


def markdown_table(results):
    """The results as a Markdown table."""
    baseline = results.get("baseline", {}).get("peak_rss_kib")
    lines = [
        "| scenario | peak RSS GiB | vs baseline | call s | wall s | goal | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, result in results.items():
        scenario = SCENARIOS[key]
        peak = result.get("peak_rss_kib")
        gib = "n/a" if peak is None else f"{peak / KIB_PER_GIB:.2f}"
        delta = (
            ""
            if peak is None or baseline is None or key == "baseline"
            else f"{(peak - baseline) / KIB_PER_GIB:+.2f}"
        )
        call = "" if result.get("call_s") is None else f"{result['call_s']:.1f}"
        goal = (
            f"<= {scenario.goal_gib:.1f}"
            if scenario.goal_gib is not None
            else f"(earlier: {scenario.reference})"
            if scenario.reference
            else ""
        )
        outcome = verdict(scenario, result)
        if result["status"] != "ok":
            outcome = f"{outcome} {result['status']}" if outcome != "-" else result["status"]
        lines.append(
            f"| {scenario.label} | {gib} | {delta} | {call} | "
            f"{result['wall_s']:.0f} | {goal} | {outcome} |"
        )
    return "\n".join(lines)


def parent_main(args):
    """Runs every selected scenario in its own process and prints the table."""
    results = {}
    for key in selected(args):
        print(f"# {key}: {SCENARIOS[key].label} ...", file=sys.stderr, flush=True)
        results[key] = spawn(key, args)
        print(
            f"#   {results[key]['status']}, {results[key]['wall_s']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    print(
        f"Batch {args.batch}, ResNet50(weights=None) 224 px, layer {_peers.LAYER}, "
        f"{os.cpu_count()} CPUs; peak RSS = VmHWM of the whole child process "
        f"(1 GiB = 2^30 bytes); call s = the explanation call alone.\n"
    )
    print(markdown_table(results))
    if args.json:
        write_json(args.json, {"batch": args.batch, "results": results})


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child_main(args)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
