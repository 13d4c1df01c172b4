"""Compile the package's ahead-of-time CPU kernels (``_cpu_kernels.cpp``) once, at install
time: ``python -m <package>.build`` (``make`` runs it).  Nothing is ever compiled at call
time; ``import <package>`` loads a matching build if there is one (``_cpu_kernel.py``).

The library goes to ``$TORCH_BRIDGE_BUILD_DIR`` (default ``~/.cache/torch_bridge``, under
``$XDG_CACHE_HOME`` when set) in a folder keyed by a hash of the source, the torch version,
the Python ABI and the compiler command, so a regenerated package or another torch never
loads a stale build (and ``gemsym codegen``'s folder holds only what it wrote).  It is
compiled into a temporary file and renamed into place.

Where torch is a CUDA build, the same step compiles ``_cuda_kernels.cu`` with nvcc
(``$CUDA_HOME/bin/nvcc`` or the one on ``PATH``) for the visible GPUs' architectures or
``$TORCH_CUDA_ARCH_LIST``, keyed likewise (``_cuda_kernel.py`` loads it).  Exit status: 0
built or already there, 2 bad arguments, 3 no build (no compiler, compiler error: one line
on stderr).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["SOURCE", "CUDA_SOURCE", "library_path", "cuda_library_path", "build", "build_cuda",
           "main"]

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


def _python_flags() -> tuple[str, ...]:
    """The flags of the forward ops' direct Python binding (``_cpu_direct``, see
    ``_cpu_kernel_helpers.h``) where Python's headers are there, else none: the library then
    holds the ops alone and calls go through them.  Part of the build's key."""
    inc = sysconfig.get_paths().get("include")
    if not inc or not (Path(inc) / "Python.h").is_file():
        return ()
    return ("-D_CPU_PYTHON_BINDING", f"-I{inc}")


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
    py = _python_flags()
    return [*cxx, *FLAGS, *_isa_flags(), *py, f"-D_GLIBCXX_USE_CXX11_ABI={abi}",
            *[f"-I{p}" for p in incs], str(source), "-o", str(out),
            f"-L{libdir}", "-lc10", "-ltorch_cpu", *(["-ltorch_python"] if py else []),
            f"-Wl,-rpath,{libdir}"]


def library_path(source: Path = SOURCE) -> Path:
    """Where the build of ``source`` for this torch and Python lives (it may not exist)."""
    text = source.read_bytes()
    key = hashlib.sha256()
    for part in (text, _torch_version().encode(), sysconfig.get_platform().encode(),
                 (sysconfig.get_config_var("SOABI") or "").encode(),
                 " ".join(FLAGS + _isa_flags() + _python_flags()).encode(),
                 os.environ.get("CXX", "c++").encode()):
        key.update(part)
        key.update(b"\0")
    return _cache_root() / _package() / key.hexdigest()[:16] / f"lib{_package()}_cpu.so"


def _compile(target: Path, command, what: str, quiet: bool) -> Path:
    """Run ``command(tmp)`` (a compiler writing the library ``tmp``) into a temporary file
    beside ``target``, then rename it into place; RuntimeError (one line) on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        cmd = command(Path(tmp))
        if not quiet:
            print(f"{_package()}.build: compiling {what}", file=sys.stderr)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise RuntimeError(f"no compiler {cmd[0]} ({exc.strerror})") from None
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if "error" in ln] or [
                proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"]
            raise RuntimeError(f"{cmd[0]} failed: {lines[0]}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def build(source: Path = SOURCE, quiet: bool = False) -> Path:
    """Compile ``source`` unless its build exists; return the library's path.  Raises
    RuntimeError (one line) when it cannot be built."""
    target = library_path(source)
    if target.is_file():
        return target
    return _compile(target, lambda out: _command(source, out),
                    f"{source.name} once (1-3 minutes)", quiet)


# ---------------------------------------------------------------- CUDA
#: The generated CUDA source next to this file (the CPU kernels' bodies, CUDA loops).
CUDA_SOURCE = Path(__file__).with_name("_cuda_kernels.cu")
#: -fmad=false: as -ffp-contract=off, no fused multiply-adds in the exact-product steps;
#: --extended-lambda: the element lambdas are device lambdas; IEEE division and square
#: root are nvcc's defaults (no --use_fast_math).
NVCC_FLAGS = ("-O3", "-std=c++17", "-shared", "--extended-lambda", "--expt-relaxed-constexpr",
              "-fmad=false", "-Xcompiler", "-fPIC", "-w", "-cudart", "shared")


def _torch_cuda() -> str | None:
    """The CUDA version torch was built with (its version.py, read without importing it),
    or None for a build without CUDA."""
    root, _, _ = _torch_dirs()
    try:
        text = (root / "version.py").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("cuda") and "=" in line:
            value = line.split("=", 1)[1].strip().strip("'\"")
            return None if value in ("None", "") else value
    return None


def _nvcc() -> str | None:
    import shutil

    for env in ("CUDA_HOME", "CUDA_PATH"):
        home = os.environ.get(env)
        if home and os.access(os.path.join(home, "bin", "nvcc"), os.X_OK):
            return os.path.join(home, "bin", "nvcc")
    return shutil.which("nvcc") or (
        "/usr/local/cuda/bin/nvcc" if os.access("/usr/local/cuda/bin/nvcc", os.X_OK) else None)


@functools.lru_cache(maxsize=None)
def _cuda_arches() -> tuple[str, ...]:
    """Compute capabilities to build for ("9.0", ...): ``$TORCH_CUDA_ARCH_LIST`` (as PyTorch
    extensions read it), else those of the visible GPUs (nvidia-smi); empty when neither
    says.  Asked once per process (nvidia-smi is a subprocess)."""
    env = os.environ.get("TORCH_CUDA_ARCH_LIST")
    if env:
        items = env.replace(";", " ").replace(",", " ").split()
        return tuple(sorted({a.replace("+PTX", "") for a in items if a[:1].isdigit()}))
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ()
    if proc.returncode != 0:
        return ()
    return tuple(sorted({ln.strip() for ln in proc.stdout.splitlines() if ln.strip()}))


def _gencode(arches: tuple[str, ...]) -> list[str]:
    # machine code for each architecture, and PTX of the newest for later GPUs
    flags = []
    for a in arches:
        cc = a.replace(".", "")
        flags += ["-gencode", f"arch=compute_{cc},code=sm_{cc}"]
    cc = arches[-1].replace(".", "")
    return flags + ["-gencode", f"arch=compute_{cc},code=compute_{cc}"]


def _cuda_command(nvcc: str, arches: tuple[str, ...], source: Path, out: Path) -> list[str]:
    root, incs, libdir = _torch_dirs()
    cfg = root / "share" / "cmake" / "Torch" / "TorchConfig.cmake"
    abi = "0" if cfg.is_file() and "_GLIBCXX_USE_CXX11_ABI=0" in cfg.read_text(
        errors="replace") else "1"
    return [nvcc, *NVCC_FLAGS, *_gencode(arches), f"-D_GLIBCXX_USE_CXX11_ABI={abi}", *[f"-I{p}" for p in incs], str(source),
            "-o", str(out), f"-L{libdir}", "-lc10", "-lc10_cuda", "-ltorch_cpu", "-ltorch_cuda",
            "-Xlinker", f"-rpath,{libdir}"]


def cuda_library_path(source: Path = CUDA_SOURCE) -> Path | None:
    """Where the CUDA build of ``source`` for this torch, Python and GPU architectures
    lives (it may not exist); None where torch has no CUDA or no architecture is known."""
    cuda = _torch_cuda()
    arches = _cuda_arches() if cuda else ()
    if not arches:
        return None
    key = hashlib.sha256()
    for part in (source.read_bytes(), _torch_version().encode(), cuda.encode(),
                 sysconfig.get_platform().encode(),
                 (sysconfig.get_config_var("SOABI") or "").encode(),
                 " ".join(NVCC_FLAGS + arches).encode(), (_nvcc() or "").encode()):
        key.update(part)
        key.update(b"\0")
    return _cache_root() / _package() / key.hexdigest()[:16] / f"lib{_package()}_cuda.so"


def build_cuda(source: Path = CUDA_SOURCE, quiet: bool = False) -> Path | None:
    """Compile the CUDA kernels unless built; their path, or None where torch has no CUDA.
    Raises RuntimeError (one line) when they cannot be built (no nvcc, no architecture,
    compiler error)."""
    if _torch_cuda() is None:
        return None
    target = cuda_library_path(source)
    if target is None:
        raise RuntimeError("no GPU architecture to build for (no visible GPU; set "
                           "TORCH_CUDA_ARCH_LIST, e.g. '9.0')")
    if target.is_file():
        return target
    nvcc = _nvcc()
    if nvcc is None:
        raise RuntimeError("no nvcc (set CUDA_HOME)")
    return _compile(target, lambda out: _cuda_command(nvcc, _cuda_arches(), source, out),
                    f"{source.name} once (a few minutes)", quiet)


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
    # the CUDA kernels where torch has CUDA (else nothing to do); without them CUDA calls
    # run the Triton kernels
    try:
        cuda = build_cuda(quiet="--quiet" in argv)
    except (RuntimeError, OSError) as exc:
        print(f"{_package()}.build: CUDA kernels not built: {exc}", file=sys.stderr)
        return 3
    if cuda is not None and "--print-path" in argv:
        print(cuda)
    return 0


if __name__ == "__main__":
    sys.exit(main())
