"""Compile the package's ahead-of-time CPU kernels (``_cpu_kernels.cpp``) once, at install
time: ``python -m <package>.build`` (``make`` runs it).  Nothing is ever compiled at call
time; ``import <package>`` loads a matching build if there is one (``_cpu_kernel.py``).

The library goes to ``$TORCH_BRIDGE_BUILD_DIR`` (default ``~/.cache/torch_bridge``, under
``$XDG_CACHE_HOME`` when set) in a folder keyed by a hash of the source, the torch version,
the Python ABI and the compiler command, so a regenerated package or another torch never
loads a stale build (and ``gemsym codegen``'s folder holds only what it wrote).  It is
compiled into a temporary file and renamed into place.  Exit status: 0 built or already
there, 2 bad arguments, 3 no build (no compiler, compiler error: one line on stderr).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["SOURCE", "library_path", "build", "main"]

#: The generated source next to this file.
SOURCE = Path(__file__).with_name("_cpu_kernels.cpp")
#: -ffp-contract=off: the exact-product steps must not become fused multiply-adds;
#: -fno-math-errno, -fno-trapping-math: no errno, no FP-exception side effects (values
#: unchanged), so conditionals become selects and the loops vectorise;
#: -fopenmp: at::parallel_for's OpenMP backend (torch ships the same libgomp).
FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC", "-fopenmp", "-ffp-contract=off",
         "-fno-math-errno", "-fno-trapping-math", "-w")
#: instruction sets used when this machine has them (its /proc/cpuinfo): AVX2's 4 doubles
#: per vector instead of SSE2's 2, and its 64-bit integer compares, which the branch-free
#: exp needs to vectorise.  They are part of the build's key, so a machine without them
#: never loads such a build.
ISA = (("avx2", "-mavx2"),)


def _isa_flags() -> tuple[str, ...]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return tuple(flag for name, flag in ISA if name in have)
    except OSError:  # not Linux: the baseline instruction set
        pass
    return ()


def _package() -> str:
    return __name__.rpartition(".")[0] or SOURCE.parent.name


def _cache_root() -> Path:
    env = os.environ.get("TORCH_BRIDGE_BUILD_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "torch_bridge"


def _torch_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        import torch

        return torch.__version__


def _torch_dirs() -> tuple[Path, list[Path], Path]:
    """(torch's root, its include folders, its library folder), found without importing
    torch (an import costs a second; the build step is also run when torch is loaded)."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("torch is not installed")
    root = Path(list(spec.submodule_search_locations)[0])
    inc = root / "include"
    return root, [inc, inc / "torch" / "csrc" / "api" / "include"], root / "lib"


def _command(source: Path, out: Path) -> list[str]:
    root, incs, libdir = _torch_dirs()
    cxx = shlex.split(os.environ.get("CXX", "c++"))
    # torch's C++ ABI flag, read from its build configuration without importing it
    abi = "1"
    cfg = root / "share" / "cmake" / "Torch" / "TorchConfig.cmake"
    if cfg.is_file() and "_GLIBCXX_USE_CXX11_ABI=0" in cfg.read_text(errors="replace"):
        abi = "0"
    return [*cxx, *FLAGS, *_isa_flags(), f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
            *[f"-I{p}" for p in incs], str(source), "-o", str(out),
            f"-L{libdir}", "-lc10", "-ltorch_cpu", f"-Wl,-rpath,{libdir}"]


def library_path(source: Path = SOURCE) -> Path:
    """Where the build of ``source`` for this torch and Python lives (it may not exist)."""
    text = source.read_bytes()
    key = hashlib.sha256()
    for part in (text, _torch_version().encode(), sysconfig.get_platform().encode(),
                 (sysconfig.get_config_var("SOABI") or "").encode(),
                 " ".join(FLAGS + _isa_flags()).encode(),
                 os.environ.get("CXX", "c++").encode()):
        key.update(part)
        key.update(b"\0")
    return _cache_root() / _package() / key.hexdigest()[:16] / f"lib{_package()}_cpu.so"


def build(source: Path = SOURCE, quiet: bool = False) -> Path:
    """Compile ``source`` unless its build exists; return the library's path.  Raises
    RuntimeError (one line) when it cannot be built."""
    target = library_path(source)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = _command(source, Path(tmp))
        if not quiet:
            print(f"{_package()}.build: compiling {source.name} once (1-3 minutes)", file=sys.stderr)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise RuntimeError(f"no C++ compiler ({cmd[0]}: {exc.strerror})") from None
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if "error" in ln] or [
                proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"]
            raise RuntimeError(f"{cmd[0]} failed: {lines[0]}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    unknown = [a for a in argv if a not in ("--quiet", "--print-path")]
    if unknown:
        print(f"{_package()}.build: unknown argument {unknown[0]!r} (allowed: --quiet, "
              "--print-path)", file=sys.stderr)
        return 2
    try:
        path = build(quiet="--quiet" in argv)
    except (RuntimeError, OSError) as exc:
        print(f"{_package()}.build: CPU kernels not built: {exc}", file=sys.stderr)
        return 3
    if "--print-path" in argv:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
