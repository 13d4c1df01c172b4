"""One writer for every generated folder (``gemsym prove``, ``gemsym figures``,
``gemsym codegen``, and anything that writes a folder later).

Claim: whatever happens to a run -- it finishes, fails, is interrupted or is killed at any
instant -- the target afterwards holds the previous output or the new one, never a mix (a
run killed between the two renames of the swap leaves a journal that the next run rolls
back), and no file that gemsym did not write is modified, moved or deleted.

The rules:

- A folder is written only when it is missing, empty, or was written by the same generator:
  it then carries :data:`MANIFEST` (the generator and the SHA-256 of every file it wrote)
  and holds only those files, unchanged (Python's ``__pycache__`` folders excepted).  A file
  the user added or edited makes the run refuse with :class:`OutputError` naming it.
- Nothing is followed through a symbolic link: a target that is a link, or a link or
  special file inside it, is refused; so is a target that is a file, the current folder
  or a folder containing it.
- The new tree is built in ``.NAME-build-*`` beside the target; the old tree is renamed to
  ``.NAME.gemsym-old`` (the journal), the new one renamed into place, the journal deleted.
  The next run renames a journal back when the target is missing, deletes it otherwise,
  and deletes stale build folders.
- Runs writing into the same parent folder are serialised by ``flock`` on that folder (no
  lock file is left behind).
- Permission problems (read-only target or parent) are :class:`OutputError`, one line.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are then not serialised
    fcntl = None

__all__ = ["MANIFEST", "Manifest", "OutputError", "OutputTree", "check_target"]

#: Name of the manifest every generated folder carries.
MANIFEST = ".gemsym-manifest.json"
#: Folders created by importing a generated package; deleted with the tree they sit in.
CACHE_DIRS = frozenset({"__pycache__"})
#: Test hook: the name of a point in a run at which the process SIGKILLs itself.
KILL_ENV = "GEMSYM_TEST_KILL_AT"

_FORMAT = 1
#: OSErrors that say something about the path the user gave (exit 2), not about gemsym
_USER_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG,
                          errno.ELOOP})
_DIR_MODE = 0o755
_FILE_MODE = 0o644


class OutputError(ValueError):
    """The output folder cannot be written safely; the message names the path and says
    what is allowed (a ValueError: the CLI reports it in one line, exit status 2)."""


@dataclass(frozen=True)
class Manifest:
    """What a generator wrote: ``files`` maps a POSIX path relative to the folder to the
    SHA-256 (hex) of its bytes.  Serialised deterministically (no time, no absolute path)."""

    generator: str
    files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(sorted(self.files.items()))))

    def to_json(self) -> str:
        body = {"format": _FORMAT, "generator": self.generator, "files": dict(self.files)}
        return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Parse a manifest; anything malformed is a ValueError."""
        body = json.loads(text)
        if not (isinstance(body, dict) and body.get("format") == _FORMAT
                and isinstance(body.get("generator"), str)
                and isinstance(body.get("files"), dict)
                and all(isinstance(k, str) and isinstance(v, str)
                        for k, v in body["files"].items())):
            raise ValueError("not a gemsym manifest")
        return cls(body["generator"], body["files"])


def _kill_point(name: str) -> None:
    # Lets the file-safety tests kill a real run at a named instant (SIGKILL: no cleanup).
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _relative(name: str) -> str:
    """``name`` as a clean relative POSIX path inside a tree; anything that could leave it
    (absolute, ``..``, empty parts) or collide with the manifest is a ValueError."""
    parts = PurePosixPath(name).parts
    if (not name or "\\" in name or "\x00" in name or name.startswith("/")
            or any(p in ("", ".", "..") for p in parts) or str(PurePosixPath(*parts)) != name
            or name == MANIFEST or any(p in CACHE_DIRS for p in parts)):
        raise ValueError(f"file name {name!r} is not a plain relative path inside the folder")
    return name


@dataclass
class _Scan:
    files: dict[str, Path]
    dirs: set[str]
    caches: set[str]


def _scan(root: Path, label) -> _Scan:
    """Every entry under ``root`` without following links; a link or special file is an
    OutputError built by ``label(relative_path, what)``."""
    out = _Scan({}, set(), set())
    stack = [("", root)]
    while stack:
        rel, folder = stack.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                r = rel + e.name
                if e.is_symlink():
                    raise label(r, "a symbolic link (gemsym never writes through links)")
                if e.is_dir(follow_symlinks=False):
                    if e.name in CACHE_DIRS:
                        inner = _scan(Path(e.path), lambda r2, w: label(f"{r}/{r2}", w))
                        if inner.dirs or inner.caches or not all(
                                f.endswith(".pyc") for f in inner.files):
                            raise label(r, "a __pycache__ folder holding more than bytecode")
                        out.caches.add(r)
                    else:
                        out.dirs.add(r)
                        stack.append((r + "/", Path(e.path)))
                elif e.is_file(follow_symlinks=False):
                    out.files[r] = Path(e.path)
                else:
                    raise label(r, "neither a file nor a folder")
    return out


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class OutputTree:
    """Write a folder safely (see the module docstring).  Use as a context manager::

        with OutputTree(out, "gemsym prove") as tree:
            tree.write_text("a.md", text)        # into the build folder
            tree.keep(["b.md"])                  # carried over from the previous output
            written = tree.commit()              # the swap

    Entering takes the lock, rolls back an interrupted run, checks the target and creates
    the build folder (before any expensive work: a refused target fails fast).  Leaving
    without ``commit`` (an exception, a signal) deletes the build folder and leaves the
    target as it was.  ``previous`` is the manifest of the output being replaced (None when
    the target is missing or empty)."""

    def __init__(self, out: str | os.PathLike, generator: str, option: str = "--out") -> None:
        self.generator = generator
        self.option = option
        self.given = os.fsdecode(os.fspath(out))
        self.path = _target_path(self.given, option)
        self.previous: Manifest | None = None
        self.build: Path | None = None
        self._lock_fd: int | None = None
        self._journal = self.path.parent / f".{self.path.name}.gemsym-old"
        self._committed = False
        self._old_sigterm = None

    # ------------------------------------------------------------------ errors
    def _error(self, problem: str) -> OutputError:
        return OutputError(f"{self.option} {self.given!r}: {problem}; allowed: a missing "
                           f"folder, an empty one, or one written by `{self.generator}`")

    def _os_error(self, exc: OSError) -> OutputError:
        where = exc.filename if exc.filename is not None else self.path
        return self._error(f"cannot write {str(where)!r} ({exc.strerror or exc})")

    # ------------------------------------------------------------------ entering
    def __enter__(self) -> "OutputTree":
        try:
            self._prepare_parent()
            self._lock()
            _kill_point("locked")
            self._recover()
            self.previous = check_target(self.path, self.generator, self._error)
            self.build = Path(tempfile.mkdtemp(dir=self.path.parent,
                                               prefix=f".{self.path.name}-build-"))
        except OSError as exc:
            self._release()
            if exc.errno in _USER_ERRNOS:
                raise self._os_error(exc) from exc
            raise
        except BaseException:
            self._release()
            raise
        self._trap_sigterm()
        return self

    def _prepare_parent(self) -> None:
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise self._error(f"a parent, {str(exc.filename or parent)!r}, is not a folder") from exc
        if not parent.is_dir():
            raise self._error(f"its parent {str(parent)!r} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise self._error(f"its parent {str(parent)!r} is read-only")

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        # The parent folder itself is the lock: nothing is left behind in the user's tree.
        self._lock_fd = os.open(self.path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def _recover(self) -> None:
        """Finish what a killed run left: the journal goes back if the target is missing
        (the old output), else it is deleted; stale build folders are deleted."""
        j = self._journal
        if os.path.lexists(j):
            if j.is_symlink() or not j.is_dir():
                raise self._error(f"{str(j)!r} is in the way (not a folder gemsym left); "
                                  "move it away")
            if os.path.lexists(self.path):
                shutil.rmtree(j)
            else:
                os.rename(j, self.path)
        # exactly mkdtemp's names: not the journal of a sibling target called "NAME-build-x"
        pattern = re.compile(re.escape(f".{self.path.name}-build-") + r"[a-z0-9_]{8}")
        with os.scandir(self.path.parent) as entries:
            stale = [Path(e.path) for e in entries
                     if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
        for folder in stale:
            shutil.rmtree(folder)

    def _trap_sigterm(self) -> None:
        # SIGTERM would kill the process without unwinding: turn it into SystemExit so that
        # the build folder (and a figures worker pool) is cleaned up on the way out.
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            def _exit(signum, frame):
                raise SystemExit(128 + signum)
            self._old_sigterm = signal.signal(signal.SIGTERM, _exit)

    # ------------------------------------------------------------------ writing
    def file(self, name: str) -> Path:
        """The build path of the file ``name`` (relative POSIX path); folders are created."""
        if self.build is None or self._committed:
            raise RuntimeError("OutputTree.file: the tree is not open")
        path = self.build / _relative(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_text(self, name: str, text: str) -> Path:
        """Write ``text`` (UTF-8, newlines as given) as ``name``; returns the final path."""
        self.file(name).write_text(text, encoding="utf-8", newline="")
        _kill_point("writing")
        return self.path / name

    def keep(self, names: Iterable[str]) -> list[str]:
        """Carry the named files of the previous output into the new one (they were checked
        unchanged on entry); names the previous output lacks are ignored.  Returns those kept."""
        kept = []
        old = self.previous.files if self.previous else {}
        for name in names:
            if name in old and (self.path / name).is_file():
                shutil.copyfile(self.path / name, self.file(name), follow_symlinks=False)
                kept.append(name)
        return kept

    def commit(self) -> list[Path]:
        """Stamp the build with the manifest and swap it in; returns the written files."""
        if self.build is None or self._committed:
            raise RuntimeError("OutputTree.commit: the tree is not open")
        try:
            return self._commit()
        except OSError as exc:
            if exc.errno in _USER_ERRNOS:
                raise self._os_error(exc) from exc
            raise

    def _commit(self) -> list[Path]:
        build = self.build
        scan = _scan(build, lambda r, w: RuntimeError(f"generated {r!r} is {w}"))
        for d in scan.dirs:
            os.chmod(build / d, _DIR_MODE)
        for path in scan.files.values():
            os.chmod(path, _FILE_MODE)
        manifest = Manifest(self.generator, {r: _sha256(p) for r, p in scan.files.items()})
        (build / MANIFEST).write_text(manifest.to_json(), encoding="utf-8", newline="")
        os.chmod(build / MANIFEST, _FILE_MODE)
        os.chmod(build, _DIR_MODE)
        _kill_point("built")
        with _signals_deferred():
            if os.path.lexists(self.path):
                os.rename(self.path, self._journal)
                _kill_point("after-rename-old")
                # a file dropped into the target since the check must not be deleted
                try:
                    late = set(_scan(self._journal, self._late).files) - set(
                        self.previous.files if self.previous else ()) - {MANIFEST}
                    if late:
                        raise self._error(f"{sorted(late)[0]!r} appeared in it during the run")
                except BaseException:
                    os.rename(self._journal, self.path)
                    raise
            os.rename(build, self.path)
            self._committed = True
            _kill_point("after-rename-new")
            if os.path.lexists(self._journal):
                shutil.rmtree(self._journal)
        return [self.path / r for r in sorted(scan.files)]

    def _late(self, rel: str, what: str) -> OutputError:
        return self._error(f"{rel!r} inside it became {what} during the run")

    # ------------------------------------------------------------------ leaving
    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not self._committed and self.build is not None and self.build.exists():
                shutil.rmtree(self.build, ignore_errors=True)
        finally:
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None
            self._release()


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT/SIGTERM wait until the block (the swap and the journal's removal) is done,
    then take effect."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    sigs = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in sigs}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])


def _target_path(text: str, option: str) -> Path:
    """The absolute target for ``--out text`` (links not resolved); a ValueError for a
    name that cannot be a folder to replace."""
    allowed = "allowed: a folder path other than the current folder and its parents"
    if not text.strip() or "\x00" in text:
        raise OutputError(f"{option} must name a folder (got {text!r}); {allowed}")
    path = Path(os.path.abspath(text))
    if path.name in ("", ".", ".."):
        raise OutputError(f"{option} {text!r} is a file-system root; {allowed}")
    try:
        cwd = Path.cwd()
        if os.path.lexists(path) and not path.is_symlink():
            st = path.stat()
            if any(_same_file(st, p.stat()) for p in (cwd, *cwd.parents)):
                raise OutputError(f"{option} {text!r} is the current folder or contains it "
                                  f"(replacing it would pull the folder away from under "
                                  f"you); {allowed}")
    except FileNotFoundError:  # the current folder was deleted: nothing to compare with
        pass
    return path


def check_target(path: Path, generator: str, error) -> Manifest | None:
    """The manifest of the output at ``path`` if ``generator`` may replace it: None when it
    is missing or empty.  Otherwise ``error(problem)`` (an OutputError) is raised."""
    if path.is_symlink():
        raise error("it is a symbolic link (gemsym never writes through links)")
    if not os.path.lexists(path):
        return None
    if not path.is_dir():
        raise error("it is a file, not a folder")
    scan = _scan(path, lambda r, w: error(f"{r!r} inside it is {w}"))
    if not (scan.files or scan.dirs or scan.caches):
        if not os.access(path, os.W_OK | os.X_OK):
            raise error("it is read-only")
        return None
    if MANIFEST not in scan.files:
        first = sorted(scan.files or scan.dirs or scan.caches)[0]
        raise error(f"it holds {first!r} and no {MANIFEST}, so gemsym did not write it")
    try:
        manifest = Manifest.from_json(scan.files[MANIFEST].read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"its {MANIFEST} is not one gemsym wrote") from exc
    if manifest.generator != generator:
        raise error(f"it was written by `{manifest.generator}`")
    ours_dirs = {str(p) for f in manifest.files for p in PurePosixPath(f).parents} - {"."}
    extra = sorted((set(scan.files) - set(manifest.files) - {MANIFEST})
                   | (scan.dirs - ours_dirs))
    if extra:
        raise error(f"it holds {extra[0]!r}, which `{generator}` did not write; move it "
                    "out first")
    for rel, path_ in sorted(scan.files.items()):
        if rel != MANIFEST and _sha256(path_) != manifest.files[rel]:
            raise error(f"{rel!r} was changed after `{generator}` wrote it; move it out "
                        "(or delete it, dropping the edit) first")
    for d in ("", *sorted(scan.dirs), *sorted(scan.caches)):
        if not os.access(path / d, os.W_OK | os.X_OK):
            raise error(f"{str(path / d)!r} is read-only")
    return manifest
