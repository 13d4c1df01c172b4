"""Wall times of the symbolic commands, each run as a fresh ``python -m gemsym`` subprocess
(interpreter start and imports included), median of a few runs, against the project's targets.

    python benchmarks/symbolic_timings.py [--runs 3] [--json-out benchmarks/symbolic_timings.json]

``gemsym prove`` and ``gemsym codegen`` write folders; they are pointed at a temporary folder
through their output option (found in their ``--help``) so that the committed ``proofs/`` and
``torch_bridge/`` are never touched.  A command that does not exist yet, or has no output
option, is reported as not run, with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (label, argv after ``gemsym``, target seconds, writes a folder)
COMMANDS = [
    ("verify-smoothness --N 2", ["verify-smoothness", "--N", "2"], 2.0, False),
    ("verify-smoothness --N 50", ["verify-smoothness", "--N", "50"], 10.0, False),
    ("verify-smoothness --N symbolic", ["verify-smoothness", "--N", "symbolic"], 10.0, False),
    ("prove", ["prove"], 60.0, True),
    ("codegen", ["codegen"], 60.0, True),
]
#: The work limits of gemsym/limits.py: at a limit the command finishes in 10 s; past it,
#: it refuses at once (exit 2).  (label, argv, target seconds, writes, allowed exit codes)
COMMANDS += [
    ("show --N 32", ["show", "--N", "32"], 10.0, False),
    ("show --order 20 --derivatives 0", ["show", "--order", "20", "--derivatives", "0"], 10.0, False),
    ("show --derivatives 8 --order 1", ["show", "--derivatives", "8", "--order", "1"], 10.0, False),
    ("verify-smoothness --N 1000", ["verify-smoothness", "--N", "1000"], 10.0, False),
    ("lp-distance --dps 100", ["lp-distance", "--dps", "100"], 10.0, False),
    ("lp-distance --p 64", ["lp-distance", "--p", "64"], 10.0, False),
    ("show --N 1000 (refused)", ["show", "--N", "1000"], 10.0, False, (2,)),
    ("show --order 200 (refused)", ["show", "--order", "200"], 10.0, False, (2,)),
    ("lp-distance --dps 2000 (refused)", ["lp-distance", "--dps", "2000"], 10.0, False, (2,)),
    ("lp-distance --p 1e9 (refused)", ["lp-distance", "--p", "1e9"], 10.0, False, (2,)),
    ("lp-distance --eps 1e999999999 (refused)", ["lp-distance", "--eps", "1e999999999"], 10.0, False, (2,)),
    ("bench --numel 1e14 (refused)", ["bench", "--numel", "1e14"], 10.0, False, (2,)),
]
OUTPUT_FLAGS = ("--out", "--output", "--outdir", "--out-dir", "--output-dir", "--dest", "--dir")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _gemsym(argv: list[str], timeout: float) -> tuple[int, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "gemsym", *argv], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, time.perf_counter() - t0, (proc.stderr.strip().splitlines() or [""])[-1]


def _output_flag(command: str) -> str | None:
    """The option of ``gemsym <command>`` that names its output folder, from its --help."""
    proc = subprocess.run([sys.executable, "-m", "gemsym", command, "--help"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return None
    text = proc.stdout
    for flag in OUTPUT_FLAGS:
        if re.search(rf"(^|[\s,\[]){re.escape(flag)}\b", text):
            return flag
    return None


def measure(runs: int, timeout: float = 300.0) -> list[dict]:
    """For each command: status, median / min / max wall seconds over ``runs`` runs, target."""
    out = []
    for label, argv, target, writes, *codes in COMMANDS:
        # 1: a claim fails, still a complete run; a refusal of input past a limit is 2
        ok_codes = codes[0] if codes else (0, 1)
        rec = {"command": f"gemsym {label}", "target_s": target, "runs": 0, "median_s": None,
               "min_s": None, "max_s": None, "exit_codes": [], "met": None, "note": ""}
        rc, _, err = _gemsym([argv[0], "--help"], 60)
        if rc != 0:
            rec["note"] = f"not run: `gemsym {argv[0]}` is not available yet ({err})"
            out.append(rec)
            continue
        extra: list[str] = []
        tmp = None
        if writes:
            flag = _output_flag(argv[0])
            if flag is None:
                rec["note"] = f"not run: no output-folder option ({', '.join(OUTPUT_FLAGS)}) in --help"
                out.append(rec)
                continue
            tmp = tempfile.TemporaryDirectory(prefix="gemsym-timing-")
        times = []
        try:
            for i in range(runs):
                if tmp is not None:
                    extra = [flag, os.path.join(tmp.name, f"run{i}")]
                try:
                    rc, seconds, err = _gemsym(argv + extra, timeout)
                except subprocess.TimeoutExpired:
                    rec["note"] = f"timed out after {timeout:.0f} s"
                    break
                rec["exit_codes"].append(rc)
                times.append(seconds)
                if rc not in ok_codes:
                    rec["note"] = f"exit {rc}: {err}"
        finally:
            if tmp is not None:
                tmp.cleanup()
        if times:
            rec.update(runs=len(times), median_s=round(statistics.median(times), 3),
                       min_s=round(min(times), 3), max_s=round(max(times), 3))
            if extra:
                rec["command"] += f" {extra[0]} TMPDIR"
            rec["met"] = rec["median_s"] < target and all(c in ok_codes for c in rec["exit_codes"])
        out.append(rec)
    return out


def markdown(records: list[dict]) -> str:
    lines = ["| command | median s | min-max s | runs | target | met | note |", "|---|---|---|---|---|---|---|"]
    for r in records:
        med = "-" if r["median_s"] is None else f"{r['median_s']:.2f}"
        rng = "-" if r["min_s"] is None else f"{r['min_s']:.2f}-{r['max_s']:.2f}"
        met = "-" if r["met"] is None else ("yes" if r["met"] else "NO")
        lines.append(f"| `{r['command']}` | {med} | {rng} | {r['runs']} | < {r['target_s']:g} s | {met} | {r['note']} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (default 3)")
    parser.add_argument("--json-out", default=None, help="also write the records here (atomically)")
    args = parser.parse_args()
    if args.runs < 1:
        sys.stderr.write(f"symbolic_timings: error: --runs must be >= 1 (got {args.runs})\n")
        return 2
    records = measure(args.runs)
    sys.stdout.write(markdown(records))
    if args.json_out:
        target = Path(args.json_out)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(records, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
