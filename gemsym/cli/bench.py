"""``gemsym bench``: time forward, backward and forward+backward of the generated ops against
``torch.relu``, ``F.gelu``, ``F.silu`` and the naive formulas, eager and compiled."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..limits import MAX_LOAD_BYTES, MAX_NUMEL, MAX_REPEAT, check_count
from ..progress import Progress, add_quiet_argument
from .common import check_known


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--numel", default=None,
                        help=f"elements of the input, 1..{MAX_NUMEL} (default: 2^24 on cpu, "
                        "2^26 on cuda)")
    parser.add_argument("--sizes", nargs="?", const="10-24", default=None, metavar="LIST",
                        help="sweep input sizes: comma-separated exponents (10 = 2^10 elements) "
                        "or element counts (default with no LIST: 2^10 ... 2^24); prints each "
                        "case's time over relu's (silu's for sqish) per size, a compiled case's "
                        "also over the anchor compiled the same way, then the speed targets; "
                        "eager torch_bridge, naive and anchors unless --impl says otherwise")
    parser.add_argument("--clock", default="wall", choices=("wall", "cpu"),
                        help="wall: elapsed time (default); cpu: the process's CPU time, for a "
                        "machine shared with other work (CPU device only)")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16 or float16 (default: float32)")
    parser.add_argument("--repeat", default=None,
                        help=f"timed rounds per case and pass, 1..{MAX_REPEAT} (default: 15 on "
                        "cpu, 50 on cuda)")
    parser.add_argument("--only", nargs="+", metavar="OP", default=None,
                        help="ops to time: gem e-gem se-gem sqish relu gelu silu (relu is always timed)")
    parser.add_argument("--family", action="append", metavar="NAME", default=None,
                        help="same as --only NAME (repeatable): a family with an op in the "
                        "generated torch_bridge, or an anchor (relu, gelu, silu)")
    parser.add_argument("--impl", nargs="+", metavar="IMPL", default=None,
                        help="implementations: torch_bridge torch_bridge+compile naive naive+compile "
                             "torch torch+compile (default: all)")
    parser.add_argument("--threads", default=None, help="torch.set_num_threads (default: torch's)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the records as a JSON list")
    out.add_argument("--markdown", action="store_true", help="print Markdown tables and target checks")
    parser.add_argument("--load", metavar="FILE", default=None,
                        help="render the records of an earlier --json run instead of measuring "
                        f"(a file of at most {MAX_LOAD_BYTES // 2**20} MiB)")
    add_quiet_argument(parser)


def _load(path: str) -> list[dict]:
    """The records of an earlier ``--json`` run; ``ValueError`` (exit 2) naming the file
    and what is wrong with it when it is not such a list."""
    from ..bench import RECORD_KEYS

    try:
        size = os.path.getsize(path)
        if size > MAX_LOAD_BYTES:
            raise ValueError(f"--load {path!r}: {size} bytes, more than the limit "
                             f"{MAX_LOAD_BYTES} (gemsym.limits.MAX_LOAD_BYTES)")
        with open(path, encoding="utf-8") as fh:
            records = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"--load {path!r}: cannot read a JSON record list "
                         f"({type(exc).__name__}: {exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"--load {path!r}: not a list of records written by "
                         "`gemsym bench --json`")
    for i, r in enumerate(records):
        missing = [k for k in RECORD_KEYS if k not in r]
        if missing:
            raise ValueError(f"--load {path!r}: record {i} lacks {', '.join(missing[:5])}")
    return records


def _ops(args: argparse.Namespace) -> tuple[str, ...] | None:
    ops = list(args.only or []) + list(args.family or [])
    return tuple(ops) if ops else None


def run(args: argparse.Namespace) -> int:
    from ..bench import markdown_tables, targets_text, text_table

    failed: list[str] = []
    if args.sizes is not None and not args.load:
        return _run_sweep(args)
    if args.load:
        records = _load(args.load)
        if len({r.get("numel") for r in records}) > 1 or args.sizes is not None:
            from ..bench.sweep import sweep_table

            return _render_sweep(args, records, sweep_table, [])
    else:
        numel = None if args.numel is None else check_count("--numel", args.numel, 1, MAX_NUMEL)
        repeat = None if args.repeat is None else check_count("--repeat", args.repeat, 1, MAX_REPEAT)
        threads = None if args.threads is None else check_count("--threads", args.threads, 1, 4096)
        from ..bench import DEVICES, DTYPES, BenchConfig, run_bench, validate

        # checked here too: validate imports torch first (seconds) to know the ops
        check_known("--device", [args.device], DEVICES)
        check_known("--dtype", [args.dtype], DTYPES)

        config = validate(BenchConfig(
            device=args.device, numel=numel, dtype=args.dtype, repeat=repeat,
            ops=_ops(args), impls=tuple(args.impl) if args.impl else None,
            threads=threads, clock=args.clock,
        ))
        with Progress("bench", quiet=args.quiet) as progress:
            result = run_bench(config, progress=progress)
        records, failed = result.records, result.failed
        for line in result.skipped:
            sys.stderr.write(f"gemsym bench: warning: {line}\n")
        for line in failed:
            sys.stderr.write(f"gemsym bench: case failed: {line}\n")
    try:
        # rendered before anything is printed: a loaded record with a value of the wrong
        # type is bad input, not half a table and a traceback
        if args.json:
            text = json.dumps(records, indent=1) + "\n"
        elif args.markdown:
            text = markdown_tables(records)
        else:
            checks = targets_text(records)
            text = text_table(records) + "\n" + ("\n" + checks + "\n" if checks else "")
    except (KeyError, TypeError, ValueError, AttributeError, ZeroDivisionError) as exc:
        if not args.load:
            raise
        raise ValueError(f"--load {args.load!r}: a record cannot be rendered "
                         f"({type(exc).__name__}: {exc})") from None
    sys.stdout.write(text)
    return 1 if failed else 0


def _run_sweep(args: argparse.Namespace) -> int:
    """``--sizes``: the benchmark at each size (``--numel`` does not apply)."""
    from ..bench import DTYPES, BenchConfig, validate
    from ..bench.sweep import DEFAULT_SIZES, parse_sizes, run_sweep, sweep_table

    if args.numel is not None:
        raise ValueError("--numel and --sizes exclude each other (--sizes 10,14 times "
                         "2^10 and 2^14 elements)")
    sizes = DEFAULT_SIZES if args.sizes == "10-24" else parse_sizes(args.sizes, MAX_NUMEL)
    repeat = None if args.repeat is None else check_count("--repeat", args.repeat, 1, MAX_REPEAT)
    threads = None if args.threads is None else check_count("--threads", args.threads, 1, 4096)
    check_known("--device", [args.device], ("cpu", "cuda"))
    check_known("--dtype", [args.dtype], DTYPES)
    config = BenchConfig(device=args.device, dtype=args.dtype, repeat=repeat, ops=_ops(args),
                         impls=tuple(args.impl) if args.impl else None, threads=threads,
                         clock=args.clock)
    validate(config)
    with Progress("bench", quiet=args.quiet) as progress:
        records, skipped, failed = run_sweep(config, sizes, progress=progress)
    for line in skipped:
        sys.stderr.write(f"gemsym bench: warning: {line}\n")
    return _render_sweep(args, records, sweep_table, failed)


def _render_sweep(args: argparse.Namespace, records: list[dict], table, failed: list[str]) -> int:
    for line in failed:
        sys.stderr.write(f"gemsym bench: case failed: {line}\n")
    if args.json:
        text = json.dumps(records, indent=1) + "\n"
    else:
        try:
            text = table(records, markdown=bool(args.markdown))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"--load {args.load!r}: a record cannot be rendered as a sweep "
                             f"({type(exc).__name__}: {exc})") from None
    sys.stdout.write(text)
    return 1 if failed else 0
