"""``gemsym prove``: write every theorem the toolkit establishes as Markdown + a JSON
certificate (see :mod:`gemsym.proofs`)."""

from __future__ import annotations

import argparse
import time

from ..progress import Progress, add_quiet_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="proofs", help="output folder (replaced atomically)")
    parser.add_argument("--only", action="append", metavar="ID",
                        help="write only this theorem (repeatable); README lists those written")
    parser.add_argument("--family", action="append", metavar="NAME",
                        help="write only the theorems about this family (repeatable): gem, "
                        "e-gem, se-gem or sqish; other families, module:attribute ones "
                        "included, have no theorem generator yet and are refused")
    parser.add_argument("--list", action="store_true", help="list the theorem ids and exit")
    add_quiet_argument(parser)


def theorems_about(name: str, ids) -> list[str]:
    """The theorem ids about family ``name``: ``<kind>-<name>`` and ``<name>-<kind>``."""
    return [i for i in ids if i.partition("-")[2] == name or i.startswith(name + "-")]


def _family_ids(names: list[str], ids) -> list[str]:
    from ..families import get_family

    wanted: list[str] = []
    for name in names:
        act = get_family(name)  # a user module that fails is reported as such first
        found = theorems_about(act.name, ids) if ":" not in name else []
        if not found:
            about = sorted({i.partition("-")[2] for i in ids if i.startswith("smoothness-")})
            raise ValueError(
                f"--family {name!r}: prove has theorems about {', '.join(about)} only; "
                f"smoothness, Lipschitz and L^p theorems of other families are not "
                f"supported yet (verify-smoothness, properties and lp-distance analyse them)"
            )
        wanted += [i for i in found if i not in wanted]
    return wanted


def run(args: argparse.Namespace) -> int:
    from ..proofs import THEOREMS, write_proofs

    if args.list:
        print("\n".join(THEOREMS))
        return 0
    ids = args.only
    if args.family:
        chosen = _family_ids(args.family, THEOREMS)
        ids = chosen if ids is None else [i for i in ids if i in chosen]
        if not ids:
            raise ValueError("--only and --family select no theorem in common")
    start = time.perf_counter()
    with Progress("prove", quiet=args.quiet) as progress:
        written = write_proofs(args.out, ids, progress)
    n = sum(1 for w in written if w.suffix == ".md" and w.name != "README.md")
    print(f"wrote {n} theorems ({len(written)} files) to {args.out} "
          f"in {time.perf_counter() - start:.1f} s")
    return 0
