"""``gemsym prove``: write every theorem the toolkit establishes as Markdown + a JSON
certificate (see :mod:`gemsym.proofs`)."""

from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="proofs", help="output folder (replaced atomically)")
    parser.add_argument("--only", action="append", metavar="ID",
                        help="write only this theorem (repeatable); README lists those written")
    parser.add_argument("--list", action="store_true", help="list the theorem ids and exit")


def run(args: argparse.Namespace) -> int:
    from ..proofs import THEOREMS, write_proofs

    if args.list:
        print("\n".join(THEOREMS))
        return 0
    start = time.perf_counter()
    written = write_proofs(args.out, args.only)
    n = sum(1 for w in written if w.suffix == ".md" and w.name != "README.md")
    print(f"wrote {n} theorems ({len(written)} files) to {args.out} "
          f"in {time.perf_counter() - start:.1f} s")
    return 0
