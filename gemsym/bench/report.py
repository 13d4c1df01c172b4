"""Turning timings into records, tables and the checks against the project's speed targets.

Bytes moved by the ideal pass (each tensor read or written once, ``numel`` elements of the
storage dtype): ``fwd`` reads x and writes y (2 tensors); ``bwd`` reads x and grad_y and
writes grad_x (3); ``fwd+bwd`` the sum (5).  GB/s is that byte count over the median time
(10^9 bytes).  A learnable parameter's gradient is a scalar and is not counted.
"""

from __future__ import annotations

from typing import Any, Iterable

__all__ = ["PASSES", "TENSORS_MOVED", "make_records", "text_table", "markdown_tables",
           "target_checks", "targets_text", "RECORD_KEYS"]

PASSES = ("fwd", "bwd", "fwd+bwd")
TENSORS_MOVED = {"fwd": 2, "bwd": 3, "fwd+bwd": 5}

#: keys every record has, in this order (values may be null where they do not apply)
RECORD_KEYS = (
    "op", "impl", "params", "device", "dtype", "pass", "numel", "median_ms", "p20_ms", "p80_ms",
    "gbps", "ratio_vs_relu", "ratio_vs_relu_compile", "copy_fraction", "peak_mem_mib",
    "peak_mem_vs_relu", "repeat", "threads", "device_name", "torch_version", "allocator",
)


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted(params.items()))


def _r(v: float | None, digits: int = 4) -> float | None:
    """``v`` to ``digits`` significant digits (times span microseconds to seconds)."""
    return None if v is None else float(f"{float(v):.{digits}g}")


def make_records(cases: Iterable[Any], summaries: dict, context: dict[str, Any],
                 extras: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per (case, pass): timings (ms), GB/s of the ideal pass, the ratio of the
    median to ``torch.relu``'s (and to ``torch.compile(torch.relu)``'s) on the same pass and
    dtype; on CUDA also the fraction of the measured copy bandwidth and, for ``fwd+bwd``,
    the peak memory beyond the inputs (MiB) and its ratio to ReLU's."""
    extras = extras or {}
    nbytes = context["numel"] * context["itemsize"]
    copy = extras.get("copy")
    copy_gbps = 2 * nbytes / (copy.median_ms / 1e3) / 1e9 if copy is not None else None
    peaks = extras.get("peak_bytes", {})
    relu_peak = peaks.get(("relu", "torch", ()))
    records = []
    for case in cases:
        for p in PASSES:
            s = summaries[(case.op, case.impl, _key(case.params), p)]
            relu = summaries.get(("relu", "torch", (), p))
            relu_c = summaries.get(("relu", "torch+compile", (), p))
            gbps = TENSORS_MOVED[p] * nbytes / (s.median_ms / 1e3) / 1e9
            peak = peaks.get((case.op, case.impl, _key(case.params))) if p == "fwd+bwd" else None
            records.append({
                "op": case.op,
                "impl": case.impl,
                "params": dict(case.params),
                "device": context["device"],
                "dtype": context["dtype"],
                "pass": p,
                "numel": context["numel"],
                "median_ms": _r(s.median_ms),
                "p20_ms": _r(s.p20_ms),
                "p80_ms": _r(s.p80_ms),
                "gbps": _r(gbps),
                "ratio_vs_relu": _r(s.median_ms / relu.median_ms, 3) if relu else None,
                "ratio_vs_relu_compile": _r(s.median_ms / relu_c.median_ms, 3) if relu_c else None,
                "copy_fraction": _r(gbps / copy_gbps, 3) if copy_gbps else None,
                "peak_mem_mib": _r(peak / 2**20, 2) if peak is not None else None,
                "peak_mem_vs_relu": _r(peak / relu_peak, 3) if peak is not None and relu_peak else None,
                "repeat": s.runs,
                "threads": context["threads"],
                "device_name": context["device_name"],
                "torch_version": context["torch_version"],
                "allocator": context["allocator"],
            })
    return records


def _params_text(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items() if k != "learnable") + (
        " (learnable)" if params.get("learnable") else "")


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _rows(records: list[dict[str, Any]], p: str) -> tuple[list[str], list[list[str]]]:
    cuda = any(r["copy_fraction"] is not None for r in records)
    head = ["op", "params", "impl", "median ms", "p20-p80 ms", "GB/s", "x relu", "x relu(compile)"]
    if cuda:
        head += ["of copy BW"] + (["peak MiB", "peak x relu"] if p == "fwd+bwd" else [])
    rows = []
    for r in records:
        if r["pass"] != p:
            continue
        row = [r["op"], _params_text(r["params"]), r["impl"], _fmt(r["median_ms"], ".2f"),
               f"{r['p20_ms']:.2f}-{r['p80_ms']:.2f}", _fmt(r["gbps"], ".2f"),
               _fmt(r["ratio_vs_relu"], ".2f"), _fmt(r["ratio_vs_relu_compile"], ".2f")]
        if cuda:
            row += [_fmt(None if r["copy_fraction"] is None else 100 * r["copy_fraction"], ".0f") + "%"]
            if p == "fwd+bwd":
                row += [_fmt(r["peak_mem_mib"], ".1f"), _fmt(r["peak_mem_vs_relu"], ".2f")]
        rows.append(row)
    return head, rows


def _header(records: list[dict[str, Any]]) -> str:
    r = records[0]
    return (f"{r['device']} ({r['device_name']}), {r['dtype']}, numel {r['numel']}, "
            f"{r['threads']} threads, {min(x['repeat'] for x in records)}-{max(x['repeat'] for x in records)} "
            f"timed rounds per case and pass, torch {r['torch_version']}, "
            f"allocator: {r['allocator']}")


def text_table(records: list[dict[str, Any]]) -> str:
    """Fixed-width tables, one per pass."""
    if not records:
        return "no results"
    out = [_header(records)]
    for p in PASSES:
        head, rows = _rows(records, p)
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        out.append(f"\n[{p}]")
        out.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        out.extend("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)
    return "\n".join(out)


def markdown_tables(records: list[dict[str, Any]]) -> str:
    """Markdown tables, one per pass, then the target checks."""
    if not records:
        return "no results\n"
    out = [_header(records), ""]
    for p in PASSES:
        head, rows = _rows(records, p)
        out += [f"**{p}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    checks = target_checks(records)
    if checks:
        out += ["**targets**", "", "| target | ratio | limit | met |", "|---|---|---|---|"]
        out += [f"| {c['target']} | {c['value']:.2f} | {c['limit']} | {'yes' if c['met'] else 'NO'} |"
                for c in checks]
        out.append("")
    return "\n".join(out)


def _find(records, op, impl, p, **params) -> dict[str, Any] | None:
    for r in records:
        if (r["op"], r["impl"], r["pass"]) == (op, impl, p) and all(r["params"].get(k) == v for k, v in params.items()):
            return r
    return None


def target_checks(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The project's speed-ratio targets that these records can decide: each as
    ``{target, value, limit, met}``.  CPU: GEM N=1 fwd (compiled module <= 1.3x ReLU, eager
    <= 3x), GEM N=1 fwd+bwd compiled <= 1.5x ReLU, learnable Sqish fwd+bwd compiled <= 2x
    SiLU; each against the eager anchor and, stricter, against the compiled anchor.  CUDA:
    >= 85% (Sqish 80%) of copy bandwidth, not slower than the compiled naive formula, peak
    memory within 5% of ReLU's."""
    checks: list[dict[str, Any]] = []

    def ratio(name, num, den, limit):
        if num and den:
            v = num["median_ms"] / den["median_ms"]
            checks.append({"target": name, "value": round(v, 3), "limit": limit, "met": v <= limit})

    for anchor_impl, tag in (("torch", ""), ("torch+compile", " (anchor compiled too)")):
        for impl, p, limit, what in (("torch_bridge+compile", "fwd", 1.3, "compiled"),
                                     ("torch_bridge", "fwd", 3.0, "eager"),
                                     ("torch_bridge+compile", "fwd+bwd", 1.5, "compiled")):
            ratio(f"GEM N=1 {p}, {what} module / relu{tag}", _find(records, "gem", impl, p, N=1),
                  _find(records, "relu", anchor_impl, p), limit)
        ratio(f"Sqish learnable fwd+bwd, compiled module / silu{tag}",
              _find(records, "sqish", "torch_bridge+compile", "fwd+bwd"), _find(records, "silu", anchor_impl, "fwd+bwd"), 2.0)
    for r in records:
        if r["impl"] != "torch_bridge" or r["copy_fraction"] is None:
            continue
        name = f"{r['op']}({_params_text(r['params'])}) {r['pass']}"
        if r["pass"] in ("fwd", "bwd"):
            limit = 0.8 if r["op"] == "sqish" else 0.85
            checks.append({"target": f"{name}: fraction of copy BW >= {limit}", "value": r["copy_fraction"],
                           "limit": limit, "met": r["copy_fraction"] >= limit})
        naive_c = _find(records, r["op"], "naive+compile", r["pass"], **r["params"])
        ratio(f"{name}: time / naive+compile", r, naive_c, 1.0)
        if r["peak_mem_vs_relu"] is not None:
            checks.append({"target": f"{name}: peak memory / relu's", "value": r["peak_mem_vs_relu"],
                           "limit": 1.05, "met": r["peak_mem_vs_relu"] <= 1.05})
    return checks


def targets_text(records: list[dict[str, Any]]) -> str:
    lines = [f"  {'met' if c['met'] else 'MISSED':<6} {c['value']:>6.2f} (limit {c['limit']})  {c['target']}"
             for c in target_checks(records)]
    return "targets:\n" + "\n".join(lines) if lines else ""
