"""``gemsym codegen``: generate the ``torch_bridge`` PyTorch package from the symbolic
definitions (forward, input and parameter gradients derived by SymPy, stable forms,
Triton kernels).  Importing this module does not import torch."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from ..families import DEFAULT_FAMILIES, FAMILIES, get_family
from ..progress import Progress, add_quiet_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="torch_bridge",
                        help="package folder to (re)write atomically; default: torch_bridge")
    parser.add_argument("--family", action="append",
                        help=f"built-in ({', '.join(FAMILIES)}) or module:attribute; repeatable; "
                        f"default: {', '.join(DEFAULT_FAMILIES)}")
    parser.add_argument("--check", action="store_true",
                        help="then evaluate each family's f and df/dx through the written "
                        "package (float32 and float64, parameters at their defaults; float32 "
                        "also by its C++ kernels where they are built) at about 170 inputs "
                        "against mpmath; exit 1 where one is more than 4 ULP off (needs torch)")
    parser.add_argument("--build", action="store_true",
                        help="then compile the package's fused C++ kernels (its build.py: "
                        "1-3 minutes once, cached by the source's hash), so that --check "
                        "checks them too; exit 3 where they cannot be built")
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    from ..codegen import write_package

    families = [get_family(name) for name in (args.family or DEFAULT_FAMILIES)]
    paths = write_package(families, args.out)
    package = paths[0].parent
    print(f"wrote {len(paths)} files to {package}")
    if args.build:
        code = _build(package, args.quiet)
        if code:
            return code
    return _check(families, package, args.quiet) if args.check else 0


def _build(package, quiet: bool) -> int:
    """Compile the written package's kernels by its own ``build.py`` (this interpreter,
    whose torch the kernels are built for); 3 with one line where that fails."""
    import subprocess

    if not quiet:
        sys.stderr.write("gemsym codegen: compiling the C++ kernels (1-3 minutes once)\n")
    done = subprocess.run([sys.executable, str(package / "build.py"), "--quiet"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        sys.stderr.write(f"gemsym codegen: cannot build the C++ kernels ({last}); the "
                         "package was written\n")
        return 3
    return 0


def _check(families, package, quiet: bool) -> int:
    """The written package's values against mpmath (:func:`..codegen.selfcheck.check_package`):
    each worst value over the bound on stdout, and exit 1 where there is one."""
    from ..codegen.selfcheck import BOUND, KERNEL, check_package

    if importlib.util.find_spec("torch") is None:
        sys.stderr.write("gemsym codegen: cannot check: torch is not installed (the package "
                         "was written)\n")
        return 3
    with Progress("codegen --check", quiet=quiet) as progress:
        worst = check_package(families, package, progress=progress)
    over = [w for w in worst if not w.within]
    for w in over:
        print(w)
    top = max(worst, key=lambda w: w.ulps, default=None)
    if not over:
        what = f"{len(families)} famil{'y' if len(families) == 1 else 'ies'}"
        built = len({w.family for w in worst if w.path == KERNEL})
        kernels = (f"float32 by the C++ kernels of {built}" if built else
                   "the C++ kernels not built: --build compiles them")
        print(f"checked f and df/dx of {what} against mpmath (float32 and float64 by the "
              f"PyTorch formulas; {kernels}): worst {0 if top is None else top.ulps:.3g} ULP, "
              f"bound {BOUND:g}")
        return 0
    names = ", ".join(dict.fromkeys(w.family for w in over))
    sys.stderr.write(f"gemsym codegen: {len(over)} of {len(worst)} checks more than "
                     f"{BOUND:g} ULP off ({names})\n")
    return 1
