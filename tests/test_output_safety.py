"""File safety of every generated folder (gemsym.output_tree and the three writers): user
files are never touched, a folder gemsym did not write is refused (exit 2, one line),
and a run killed at any instant leaves the previous output or the new one -- never a mix --
with no build folder or journal after the next run.  Most cases drive the routine with a
tiny fake generator; a few run the real commands on small inputs."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gemsym.cli import main
from gemsym.codegen.writer import check_package_name
from gemsym.output_tree import KILL_ENV, MANIFEST, OutputError, OutputTree

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "gemsym" / "output_tree.py"
GEN = "gemsym test"

# The fake generator as a process: loads output_tree.py alone (no sympy import: fast) and
# writes three files and a sub-folder tagged by argv[3], pausing argv[4] s before the swap.
FAKE = r"""
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("output_tree", sys.argv[1])
ot = importlib.util.module_from_spec(spec)
sys.modules["output_tree"] = ot
spec.loader.exec_module(ot)
out, tag, pause = sys.argv[2], sys.argv[3], float(sys.argv[4])
try:
    with ot.OutputTree(out, "gemsym test") as tree:
        for i in range(3):
            tree.write_text(f"f{i}.txt", f"{tag} {i}\n")
        tree.write_text("sub/g.txt", tag)
        print("open", flush=True)
        time.sleep(pause)
        tree.commit()
except ot.OutputError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


def _fake(out: Path, tag: str) -> list[Path]:
    """The fake generator in this process."""
    with OutputTree(out, GEN) as tree:
        for i in range(3):
            tree.write_text(f"f{i}.txt", f"{tag} {i}\n")
        tree.write_text("sub/g.txt", tag)
        return tree.commit()


def _spawn(tmp: Path, out: Path, tag: str, pause: float = 0.0, kill_at: str | None = None,
           **kw) -> subprocess.Popen:
    script = tmp / "fake_generator.py"
    if not script.exists():
        script.write_text(FAKE)
    env = dict(os.environ)
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.Popen([sys.executable, str(script), str(MODULE), str(out), tag, str(pause)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kw)


def _snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (links not followed): bytes, link targets, folders."""
    snap: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                snap[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                snap[rel] = "dir"
            else:
                snap[rel] = p.read_bytes()
    return snap


def _state(out: Path) -> str | None:
    """The tag of the complete fake output in ``out`` (None: no folder); a mix, a missing
    file or a manifest that does not match the bytes fails the test."""
    if not os.path.lexists(out):
        return None
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert names == {"f0.txt", "f1.txt", "f2.txt", "sub/g.txt", MANIFEST}, names
    tag = (out / "sub/g.txt").read_text()
    for i in range(3):
        assert (out / f"f{i}.txt").read_text() == f"{tag} {i}\n", "a mix of two outputs"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["generator"] == GEN
    assert manifest["files"] == {n: hashlib.sha256((out / n).read_bytes()).hexdigest()
                                 for n in names - {MANIFEST}}
    return tag


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith(f".{name}-build-") or p.name == f".{name}.gemsym-old")


@pytest.fixture
def area(tmp_path):
    """A parent folder holding the user's own files beside the target (checked untouched)."""
    (tmp_path / "notes.txt").write_text("the user's notes\n")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "paper.tex").write_bytes(b"\\documentclass{article}\n\xff")
    return tmp_path


# ------------------------------------------------------------------ what may be written
def test_missing_empty_and_own_folder_are_written_with_ordinary_modes(area):
    out = area / "o"
    old_umask = os.umask(0o077)  # a strict umask must not leak into generated folders
    try:
        written = _fake(out, "a")
    finally:
        os.umask(old_umask)
    assert _state(out) == "a" and sorted(p.name for p in written) == ["f0.txt", "f1.txt",
                                                                        "f2.txt", "g.txt"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "sub").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "f0.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / MANIFEST).stat().st_mode) == 0o644
    assert (out / MANIFEST).read_text() == (
        json.dumps({"files": json.loads((out / MANIFEST).read_text())["files"], "format": 1,
                    "generator": GEN}, indent=1, sort_keys=True) + "\n")
    assert str(area) not in (out / MANIFEST).read_text()  # no absolute path
    _fake(out, "b")
    assert _state(out) == "b"
    empty = area / "empty"
    empty.mkdir()
    _fake(empty, "c")
    assert _state(empty) == "c"
    assert _leftovers(area, "o") == [] and _leftovers(area, "empty") == []


def test_missing_parents_are_created(area):
    out = area / "a" / "b" / "o"
    _fake(out, "a")
    assert _state(out) == "a"


def _refused(out, match: str, generator: str = GEN) -> str:
    before = _snapshot(Path(os.path.abspath(out)).parent)
    with pytest.raises(OutputError, match=match) as info:
        with OutputTree(out, generator) as tree:
            tree.write_text("f0.txt", "never\n")
            tree.commit()
    assert _snapshot(Path(os.path.abspath(out)).parent) == before
    assert "\n" not in str(info.value)
    return str(info.value)


def test_user_file_added_inside_own_output_is_refused(area):
    out = area / "o"
    _fake(out, "a")
    (out / "mine.txt").write_text("keep me")
    msg = _refused(out, "mine.txt")
    assert "did not write" in msg and "allowed" in msg
    (out / "mine.txt").unlink()
    (out / "sub" / "extra").mkdir()
    _refused(out, "sub/extra")


def test_edited_generated_file_is_refused(area):
    out = area / "o"
    _fake(out, "a")
    (out / "f1.txt").write_text("edited by hand\n")
    _refused(out, "'f1.txt' was changed")


def test_folder_of_another_generator_or_without_manifest_is_refused(area):
    out = area / "o"
    _fake(out, "a")
    _refused(out, "written by `gemsym test`", generator="gemsym other")
    _refused(area / "work", "no .gemsym-manifest.json")
    (out / MANIFEST).write_text("{not json")
    _refused(out, "not one gemsym wrote")


def test_current_folder_file_empty_name_and_root_are_refused(area, monkeypatch):
    monkeypatch.chdir(area / "work")
    _refused(".", "current folder")
    _refused("..", "current folder")
    empty = area / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    _refused(".", "current folder")  # even empty: the folder would move from under the shell
    monkeypatch.chdir(area)
    _refused("notes.txt", "a file, not a folder")
    for bad in ("", "  "):
        with pytest.raises(OutputError, match="must name a folder"):
            OutputTree(bad, GEN)
    with pytest.raises(OutputError, match="root"):
        OutputTree("/", GEN)
    _refused(area / "notes.txt" / "o", "not a folder")


def test_symlinks_are_never_followed(area):
    link = area / "link"
    link.symlink_to(area / "work")
    _refused(link, "symbolic link")
    _refused(str(link) + "/", "symbolic link")
    out = area / "o"
    _fake(out, "a")
    (out / "sub" / "g.txt").unlink()
    (out / "sub" / "g.txt").symlink_to(area / "notes.txt")
    _refused(out, "symbolic link")
    assert (area / "notes.txt").read_text() == "the user's notes\n"


def test_read_only_target_or_parent_is_one_line_exit_2(area, monkeypatch):
    out = area / "o"
    _fake(out, "a")
    if os.geteuid() != 0:
        os.chmod(area, 0o555)
        try:
            _refused(out, "read-only")
        finally:
            os.chmod(area, 0o755)
        os.chmod(out, 0o555)
        try:
            _refused(out, "read-only")
        finally:
            os.chmod(out, 0o755)
    # root writes read-only folders: simulate what the kernel would say to a user
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(area))

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    msg = _refused(out, "Permission denied")
    assert "cannot write" in msg
    monkeypatch.undo()
    assert _state(out) == "a"


def test_a_failing_generator_leaves_the_previous_output(area):
    out = area / "o"
    _fake(out, "a")
    with pytest.raises(RuntimeError, match="boom"):
        with OutputTree(out, GEN) as tree:
            tree.write_text("f0.txt", "half\n")
            raise RuntimeError("boom")
    assert _state(out) == "a" and _leftovers(area, "o") == []
    with pytest.raises(ValueError, match="plain relative path"):
        with OutputTree(out, GEN) as tree:
            tree.write_text("../escape.txt", "x")
    assert not (area / "escape.txt").exists() and _state(out) == "a"


def test_only_this_targets_stale_build_folders_are_removed(area):
    stale = area / ".o-build-ab12_xyz"
    stale.mkdir()
    (stale / "half.txt").write_text("x")
    sibling = area / ".o-build-ab12_xyz.gemsym-old"  # the journal of a target "o-build-ab12_xyz"
    sibling.mkdir()
    (sibling / "f.txt").write_text("x")
    with OutputTree(area / "o", GEN):
        pass
    assert not stale.exists() and (sibling / "f.txt").read_text() == "x"


def test_keep_carries_files_of_the_previous_output(area):
    out = area / "o"
    _fake(out, "a")
    with OutputTree(out, GEN) as tree:
        tree.write_text("f0.txt", "a 0\n")
        assert tree.keep(["f1.txt", "f2.txt", "sub/g.txt", "absent.txt"]) == [
            "f1.txt", "f2.txt", "sub/g.txt"]
        tree.commit()
    assert _state(out) == "a"


# ------------------------------------------------------------------ killed, raced
# what each kill point leaves: the old output, the new one, or nothing until the next run
KILLS = {"locked": "old", "writing": "old", "built": "old", "after-rename-old": None,
         "after-rename-new": "new"}


@pytest.mark.parametrize("point", list(KILLS))
def test_sigkill_at_any_point_leaves_old_or_new_output(area, point):
    out = area / "o"
    _fake(out, "old")
    user = _snapshot(area / "work"), (area / "notes.txt").read_bytes()
    proc = _spawn(area, out, "new", kill_at=point)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert _state(out) == KILLS[point]
    with OutputTree(out, GEN):  # the next run rolls back / cleans up, then writes nothing
        pass
    assert _state(out) == (KILLS[point] or "old")
    assert _leftovers(area, "o") == []
    assert (_snapshot(area / "work"), (area / "notes.txt").read_bytes()) == user
    _fake(out, "third")
    assert _state(out) == "third"


@pytest.fixture(autouse=True)
def _sigint_delivered():
    """A shell that starts the suite in the background (``cmd &``, nohup) ignores SIGINT, and
    the processes it starts inherit that: with a handler installed here, SIGINT reaches this
    process and the subprocesses start with the default disposition (exec resets handled
    signals), as at a terminal."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_removes_the_build_folder(area, sig):
    out = area / "o"
    _fake(out, "old")
    proc = _spawn(area, out, "new", pause=30)
    assert proc.stdout.readline() == "open\n"
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    assert proc.returncode == (128 + signal.SIGTERM if sig == signal.SIGTERM else -signal.SIGINT)
    assert _state(out) == "old" and _leftovers(area, "o") == []


def test_a_signal_during_the_swap_waits_until_the_swap_is_done(area, monkeypatch):
    out = area / "o"
    _fake(out, "old")
    real = os.rename

    def rename(src, dst):
        real(src, dst)
        if Path(dst).name == ".o.gemsym-old":  # between the two renames
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        _fake(out, "new")
    assert _state(out) == "new" and _leftovers(area, "o") == []


def test_two_concurrent_runs_are_serialised(area):
    out = area / "o"
    first = _spawn(area, out, "first", pause=1.0)
    assert first.stdout.readline() == "open\n"  # holds the lock now
    second = _spawn(area, out, "second")
    time.sleep(0.3)
    assert second.poll() is None  # waiting for the lock
    assert _state(out) is None
    for p in (first, second):
        p.communicate(timeout=60)
        assert p.returncode == 0
    assert _state(out) == "second" and _leftovers(area, "o") == []


# ------------------------------------------------------------------ the real commands
def _cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    if code:
        assert err.count("\n") == 1 and "Traceback" not in err, err
    return code, err


def test_prove_only_keeps_other_theorems_and_refuses_user_files(tmp_path, capsys):
    out = tmp_path / "proofs"
    assert _cli(capsys, "prove", "--only", "smoothness-gem", "--out", str(out))[0] == 0
    assert _cli(capsys, "prove", "--only", "smoothness-e-gem", "--out", str(out))[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [MANIFEST, "README.md", "smoothness-e-gem.json", "smoothness-e-gem.md",
                     "smoothness-gem.json", "smoothness-gem.md"]
    readme = (out / "README.md").read_text()
    assert "(smoothness-gem.md)" in readme and "(smoothness-e-gem.md)" in readme
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["generator"] == "gemsym prove"
    assert set(manifest["files"]) == set(names) - {MANIFEST}
    (out / "main.tex").write_text("\\section{mine}")
    before = _snapshot(out)
    code, err = _cli(capsys, "prove", "--only", "smoothness-gem", "--out", str(out))
    assert code == 2 and "main.tex" in err and _snapshot(out) == before


def test_codegen_refuses_bad_package_names_and_foreign_folders(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for bad in ("123pkg", "\u00fcn\u00efcode", "_", "__", "class", "match", "torch", "Torch",
                "aten", "prims", "prim", "triton", "sympy", "numpy", "json", "has-dash"):
        with pytest.raises(ValueError, match="package name"):
            check_package_name(bad)
        code, err = _cli(capsys, "codegen", "--family", "relu", "--out", bad)
        assert code == 2 and repr(bad) in err
    assert list(tmp_path.iterdir()) == []
    assert check_package_name("my_bridge2") == "my_bridge2"
    Path("file.py").write_text("x = 1\n")
    assert _cli(capsys, "codegen", "--family", "relu", "--out", "file.py")[0] == 2
    assert _cli(capsys, "codegen", "--family", "relu", "--out", "")[0] == 2
    assert Path("file.py").read_text() == "x = 1\n"
    assert _cli(capsys, "codegen", "--family", "relu", "--out", "pkg")[0] == 0
    (Path("pkg") / "__pycache__").mkdir()
    (Path("pkg") / "__pycache__" / "modules.cpython-311.pyc").write_bytes(b"\0")
    assert _cli(capsys, "codegen", "--family", "relu", "--out", "pkg/")[0] == 0  # caches go
    (Path("pkg") / "notes.md").write_text("mine")
    code, err = _cli(capsys, "codegen", "--family", "relu", "--out", "pkg")
    assert code == 2 and "notes.md" in err and (Path("pkg") / "notes.md").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.py", "pkg"]


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_figures_leave_no_workers_and_no_build_folder(tmp_path, sig):
    out = tmp_path / "figs"
    proc = subprocess.Popen([sys.executable, "-m", "gemsym", "figures", "--out", str(out),
                             "--only", "lipschitz", "lp_region", "--jobs", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        workers = _children(proc.pid)
    assert len(workers) >= 2, "the pool never started"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "a pool worker outlived gemsym figures"
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
    elif sig == signal.SIGINT:
        assert proc.returncode == 130 and err.count("\n") == 1  # "interrupted"
    else:
        with OutputTree(out, "gemsym figures"):  # the next run removes the build folder
            pass
    assert not out.exists() and _leftovers(tmp_path, "figs") == []


@pytest.mark.parametrize("folder, generator", [("proofs", "gemsym prove"),
                                               ("figures", "gemsym figures"),
                                               ("torch_bridge", "gemsym codegen")])
def test_committed_folders_are_recognised_as_written_by_their_command(folder, generator):
    """`make prove/figures/codegen` on a fresh clone: the committed manifest lists exactly
    the committed files with their SHA-256, so the command may replace the folder."""
    from gemsym.output_tree import check_target

    def error(problem):
        return AssertionError(f"{folder}/: {problem}; regenerate it with its command")

    manifest = check_target(ROOT / folder, generator, error)
    assert manifest is not None and manifest.generator == generator
    files = {p.name for p in (ROOT / folder).iterdir() if p.is_file()} - {MANIFEST}
    assert set(manifest.files) == files
