"""Where cmem-ops keeps things under the claude-mem data dir (default ~/.claude-mem).

Every directory cmem-ops creates is made by `ensure_private_dir` (0700, parents included), every
private file by `write_private_file` (0600), and every lock by `private_lock`. A command that finds
nothing to do creates nothing: a stop takes its lock with `create=False`, so on a fresh HOME it
leaves no ~/.claude-mem behind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .filelock import exclusive_lock

if TYPE_CHECKING:
    import datetime as dt

DATA_DIR_ENV = "CLAUDE_MEM_DATA_DIR"
DIR_MODE = 0o700
FILE_MODE = 0o600


class Paths(NamedTuple):
    """Every file and directory cmem-ops reads or writes, rooted at one data dir."""

    data_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Paths:
        """Resolve the data dir from CLAUDE_MEM_DATA_DIR, else ~/.claude-mem."""
        env = os.environ if env is None else env
        raw = env.get(DATA_DIR_ENV, "").strip()
        if raw:
            return cls(Path(raw).expanduser().absolute())
        home = env.get("HOME") or str(Path.home())
        return cls(Path(home) / ".claude-mem")

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def redis_conf(self) -> Path:
        return self.redis_dir / "redis.conf"

    @property
    def redis_data(self) -> Path:
        return self.redis_dir / "data"

    @property
    def redis_pid(self) -> Path:
        return self.redis_dir / "redis.pid"

    @property
    def redis_lock(self) -> Path:
        return self.redis_dir / ".lock"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def bin_dir(self) -> Path:
        return self.data_dir / "bin"

    @property
    def valkey_bin_root(self) -> Path:
        return self.bin_dir / "valkey"

    @property
    def run_dir(self) -> Path:
        """cmem-ops' own identity records for processes it starts (server, worker, postgres)."""
        return self.data_dir / "run"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def log_file(self, component: str, day: dt.date | None = None) -> Path:
        """The dated log of `component` for `day` (default today): logs/<component>-YYYY-MM-DD.log."""
        stamp = day.isoformat() if day else time.strftime("%Y-%m-%d")  # time: datetime costs ~2 ms to import
        return self.logs_dir / f"{component}-{stamp}.log"

    def log_files(self, component: str) -> list[Path]:
        """All dated logs of `component`, oldest first (ISO dates sort as text)."""
        if not self.logs_dir.is_dir():
            return []
        return sorted(self.logs_dir.glob(f"{component}-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].log"))


def ensure_private_dir(path: Path) -> Path:
    """Create `path` and every missing parent with mode 0700 (mkdir's `parents` would make them 0755),
    make `path` itself 0700; return it. Existing parents are left as they are."""
    missing = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # made meanwhile by a concurrent cmem-ops
        else:
            os.chmod(directory, DIR_MODE)  # the umask may have removed bits we asked for; never adds any
    if not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a directory")
    os.chmod(path, DIR_MODE)
    return path


@contextmanager
def private_lock(lock_file: Path, *, create: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on `lock_file` (its directory made private first); yield True.

    With `create=False` (a stop) and no such directory, nothing of ours is there to race with: run
    the block unlocked and yield False, creating nothing.
    """
    if not create and not lock_file.parent.is_dir():
        yield False
        return
    ensure_private_dir(lock_file.parent)
    with exclusive_lock(lock_file):
        yield True


def write_private_file(path: Path, text: str, *, durable: bool = True) -> None:
    """Write `text` to `path` atomically with mode 0600 (temp file + fsync + rename).

    `durable=False` skips both fsyncs: for caches, whose loss in a crash costs only a recomputation.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
