"""Wall time and exit status of ``show``, ``verify-smoothness``, ``lp-distance`` (families
with a declared limit) and ``properties`` on every built-in family at its default
parameter values, each run as a fresh ``python -m gemsym`` subprocess with a time limit.

    python benchmarks/catalogue_timings.py [--timeout 60] [--family NAME ...]
        [--json-out benchmarks/catalogue_timings.json] [--markdown]

Every parameter is passed explicitly (``--param NAME=DEFAULT``), so a run measures the
family at its defaults whatever a command would leave symbolic.  A run is "slow" past
10 s (issue 9's target for each command on each catalogue member).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gemsym.cli.listing import number_text  # noqa: E402
from gemsym.families import FAMILIES, get_family  # noqa: E402

TARGET_S = 10.0
COMMANDS = ("show", "verify-smoothness", "lp-distance", "properties")
#: exit status -> what it means (README / ``gemsym --help``)
MEANING = {0: "ok", 1: "a claim fails", 2: "refused as bad input", 3: "cannot decide / error"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _describe() -> str:
    proc = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                          capture_output=True, text=True)
    return proc.stdout.strip() or "unknown (not a git checkout)"


def command_line(family: str, command: str) -> list[str]:
    """``gemsym <command> --family <family> --param NAME=DEFAULT ...``"""
    act = get_family(family)
    argv = [command, "--family", family]
    for p in act.parameters:
        argv += ["--param", f"{p.name}={number_text(p.default)}"]
    return argv


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(argv: list[str], timeout: float) -> dict:
    """Exit status, wall seconds and CPU seconds (user + system: what a loaded machine
    inflates least) of one ``python -m gemsym`` run."""
    t0, c0 = time.perf_counter(), _children_cpu()
    try:
        proc = subprocess.run([sys.executable, "-m", "gemsym", *argv], cwd=ROOT, env=_env(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"exit": None, "wall_s": round(time.perf_counter() - t0, 2), "cpu_s": None,
                "outcome": "timeout", "stderr": f"killed after {timeout:g} s"}
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    err = proc.stderr.strip()
    crashed = "Traceback (most recent call last)" in err
    outcome = "traceback" if crashed else MEANING.get(proc.returncode, f"exit {proc.returncode}")
    last = err.splitlines()[-1] if err else ""
    return {"exit": proc.returncode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "outcome": outcome,
            "stderr": last[:300]}


def measure(families: list[str], timeout: float) -> list[dict]:
    runs = []
    for family in families:
        has_limit = get_family(family).limit is not None
        for command in COMMANDS:
            if command == "lp-distance" and not has_limit:
                continue
            argv = command_line(family, command)
            rec = {"family": family, "command": command,
                   "argv": "gemsym " + " ".join(argv), **run_one(argv, timeout)}
            rec["slow"] = rec["wall_s"] > TARGET_S
            # on a loaded machine wall time overstates; CPU time is what one idle core needs
            rec["slow_cpu"] = rec["cpu_s"] is None or rec["cpu_s"] > TARGET_S
            runs.append(rec)
            print(f"{family:<12} {command:<18} exit {rec['exit']}  {rec['wall_s']:7.2f} s  "
                  f"cpu {rec['cpu_s']}  "
                  f"{rec['outcome']}  {rec['stderr'][:100]}", file=sys.stderr, flush=True)
    return runs


def markdown(data: dict) -> str:
    """The table of RESULTS.md: one row per family, one column per command; in bold a
    nonzero exit status or more than 10 s of CPU."""
    by = {(r["family"], r["command"]): r for r in data["runs"]}
    families = list(dict.fromkeys(r["family"] for r in data["runs"]))
    lines = ["| family | " + " | ".join(COMMANDS) + " |",
             "| --- | " + " | ".join("---" for _ in COMMANDS) + " |"]
    for fam in families:
        cells = []
        for cmd in COMMANDS:
            r = by.get((fam, cmd))
            if r is None:
                cells.append("(no limit)")
            elif r["exit"] is None:
                cells.append(f"**timeout** > {data['timeout_s']:g} s")
            else:
                mark = "**" if r["exit"] != 0 or r["cpu_s"] > TARGET_S else ""
                cells.append(f"{mark}{r['wall_s']:.1f} s ({r['cpu_s']:.1f} cpu), exit {r['exit']}{mark}")
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument("--family", action="append", help="only these families (repeatable)")
    parser.add_argument("--json-out", type=Path, help="write the runs as JSON here")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table")
    parser.add_argument("--load", type=Path, help="read runs from this JSON instead of running")
    parser.add_argument("--source", help="what was measured (default: `git describe` of this "
                        "checkout; give the commit when running from an exported snapshot)")
    args = parser.parse_args(argv)
    if args.load:
        data = json.loads(args.load.read_text())
    else:
        start = dt.datetime.now(dt.timezone.utc)
        load_start = os.getloadavg()
        runs = measure(args.family or list(FAMILIES), args.timeout)
        data = {
            "source": args.source or _describe(),
            "started_utc": start.strftime("%Y-%m-%d %H:%M"),
            "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "loadavg_start": [round(v, 2) for v in load_start],
                        "loadavg_end": [round(v, 2) for v in os.getloadavg()]},
            "timeout_s": args.timeout,
            "target_s": TARGET_S,
            "runs": runs,
        }
        if args.json_out:
            args.json_out.write_text(json.dumps(data, indent=2) + "\n")
    if args.markdown:
        print(markdown(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
