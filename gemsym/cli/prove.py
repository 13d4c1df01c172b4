"""``gemsym prove``: write every theorem the toolkit establishes as Markdown + a JSON
certificate (see :mod:`gemsym.proofs`)."""

from __future__ import annotations

import argparse
import time

from ..progress import Progress, add_quiet_argument


#: the ids --only accepts: the registry :data:`gemsym.proofs.THEOREMS`, in its order
ONLY_IDS = ("smoothness-gem", "smoothness-e-gem", "smoothness-se-gem", "smoothness-sqish",
            "lipschitz-gem", "lipschitz-e-gem", "lipschitz-se-gem", "lipschitz-sqish",
            "sqish-minimum", "lp-e-gem", "lp-se-gem", "lp-sqish")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="proofs", help="output folder (replaced atomically)")
    # the ids are written out, not imported: importing the proofs costs seconds on every
    # command; tests/test_prove_help.py keeps this list equal to the registry
    parser.add_argument("--only", action="append", metavar="ID",
                        help="write only this built-in theorem (repeatable): "
                        + ", ".join(ONLY_IDS) + " (--list prints them). The other theorems "
                        "already in --out are kept, and README lists every one present. "
                        "With --family, only the IDs about those families (gem, e-gem, "
                        "se-gem, sqish) are written; the theorems about any other family "
                        "are written with --family alone")
    parser.add_argument("--family", action="append", metavar="NAME",
                        help="write the theorems about this family (repeatable; a built-in "
                        "name or module:attribute): for gem, e-gem, se-gem and sqish those of "
                        "the full run; for any other, its smoothness class at each junction, "
                        "its Lipschitz constant at the defaults and its L^p distance to a "
                        "declared limit, each where the analysis decides it (README lists "
                        "what was not proved). Other theorems already in --out are kept")
    parser.add_argument("--list", action="store_true", help="list the theorem ids and exit")
    add_quiet_argument(parser)


def theorems_about(name: str, ids) -> list[str]:
    """The theorem ids about family ``name``: ``<kind>-<name>`` and ``<name>-<kind>``."""
    return [i for i in ids if i.partition("-")[2] == name or i.startswith(name + "-")]


def _family_ids(names: list[str], ids) -> tuple[list[str], list]:
    """The registry's theorem ids about the named families, and the other families
    (Activations) whose theorems :func:`gemsym.proofs.build_families` establishes."""
    from ..families import get_family

    wanted: list[str] = []
    others: list = []
    for name in names:
        act = get_family(name)  # a user module that fails is reported as such first
        found = theorems_about(act.name, ids) if ":" not in name else []
        if found:
            wanted += [i for i in found if i not in wanted]
        elif all(a.name != act.name for a in others):
            from ..proofs.family import family_plan

            clash = [tid for tid, _ in family_plan(act) if tid in ids]
            if clash:
                raise ValueError(f"--family {name!r}: its theorem id {clash[0]!r} is a built-in "
                                 f"theorem's; give the family another name")
            others.append(act)
    return wanted, others


def run(args: argparse.Namespace) -> int:
    from ..proofs import THEOREMS, write_proofs

    if args.list:
        print("\n".join(THEOREMS))
        return 0
    ids = args.only
    others: list = []
    if args.family:
        chosen, others = _family_ids(args.family, THEOREMS)
        if others and args.only:
            raise ValueError(f"--only selects registry theorems; the theorems about "
                             f"{others[0].name} are written with --family alone")
        ids = chosen if ids is None else [i for i in ids if i in chosen]
        if not ids and not others:
            raise ValueError("--only and --family select no theorem in common")
    start = time.perf_counter()
    with Progress("prove", quiet=args.quiet) as progress:
        command = None if not others else (
            "gemsym prove " + " ".join(f"--family {n}" for n in args.family) + f" --out {args.out}")
        missing: list[tuple[str, str]] = []
        written = write_proofs(args.out, ids, progress, families=others, command=command,
                               not_proved_into=missing)
    n = sum(1 for w in written if w.suffix == ".md" and w.name != "README.md")
    print(f"wrote {n} theorems ({len(written)} files) to {args.out} "
          f"in {time.perf_counter() - start:.1f} s")
    if missing:
        print(f"not proved (listed in {args.out}/README.md): "
              + ", ".join(tid for tid, _ in missing))
    return 0
