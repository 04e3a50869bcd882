"""What a start needs, decided and validated before anything is stopped or written (restart relies on it).

    plan_identity    port (settings, else the managed URL's, else a free one) and password (the URL's, or new)
    settings_updates the settings.json keys that name the managed server (pure)
    check_writable   try the dirs and files a start writes; the OS refusing is a FileError naming path + errno
    prepare          re-read settings and run all of the above plus binary selection and config rendering
"""

from __future__ import annotations

import os
from typing import NamedTuple

from ..errors import ConfigError, ProcessError, file_error
from ..paths import Paths
from ..redis_url import parse_redis_url
from ..runner import Runner
from ..settings import KEY_ENGINE, KEY_MODE, KEY_PORT, KEY_URL, QueueEngine, RedisMode, Settings, load_settings
from ..store import process, state
from ..store.binaries import ServerBinary
from ..store.config import StoreConfig, render_config
from ..store.pinned import pinned_binary
from ..store.ports import choose_port, ipv6_loopback_available, port_is_free
from .store import _require_managed


class IdentityPlan(NamedTuple):
    """The port and password a start will use, and whether they were chosen now (pure result)."""

    port: int
    password: str


def plan_identity(settings: Settings, new_port: bool) -> IdentityPlan:
    """Port: settings (unless `new_port`), else the managed URL's, else a free one; password: the URL's or new."""
    port = None if new_port else settings.persisted_port  # raises ConfigError for CLAUDE_MEM_REDIS_PORT=abc
    password = None
    url = settings.file_values.get(KEY_URL)
    if isinstance(url, str) and url:
        try:
            target = parse_redis_url(url)
        except ConfigError:
            target = None
        if target is not None:
            password = target.password
            if port is None and not new_port and target.host in ("127.0.0.1", "localhost"):
                port = target.port
    if port is None:
        ipv6 = ipv6_loopback_available()
        try:
            port = choose_port(lambda p: port_is_free(p, ipv6=ipv6))
        except RuntimeError as exc:
            raise ProcessError(str(exc), hint="free a port in 20000-32767, then: cmem-ops store start") from None
    return IdentityPlan(port, password or state.new_password())


def settings_updates(settings: Settings, port: int, password: str) -> dict[str, str | None]:
    """The settings.json keys that make it name the managed server at `port` with `password` (pure)."""
    updates: dict[str, str | None] = {KEY_MODE: RedisMode.MANAGED.value, KEY_PORT: str(port),
                                      KEY_URL: state.managed_target(port, password).url()}
    if not settings.get(KEY_ENGINE):
        updates[KEY_ENGINE] = QueueEngine.BULLMQ.value
    return updates


class Prepared(NamedTuple):
    """Everything a start needs, validated before anything is stopped or written."""

    settings: Settings
    plan: IdentityPlan
    binary: ServerBinary
    cfg: StoreConfig


def check_writable(paths: Paths, *, sync: bool = False) -> None:
    """Raise a FileError when a dir or file the start writes is refused by the OS (tried, not guessed).

    `sync` also fsyncs each probe, so a disk that takes a write into the page cache and fails it
    later fails here: restart asks for it, since it stops the store next. A start does not: a full
    disk refuses the write itself (ext4, xfs, tmpfs reserve blocks at write time), and a failure it
    misses surfaces as a FileError from the very next write, before anything runs.
    """
    for directory in (paths.data_dir, paths.redis_dir, paths.redis_data, paths.logs_dir):
        if not directory.exists():
            continue
        probe = directory / f".cmem-ops-write-test.{os.getpid()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, b"x")
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            raise file_error(exc, "write in", directory) from None
    if paths.redis_conf.is_dir():
        raise file_error(IsADirectoryError(21, "Is a directory"), "write", paths.redis_conf)
    if paths.redis_conf.exists():
        try:
            os.close(os.open(paths.redis_conf, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            raise file_error(exc, "write", paths.redis_conf) from None


def prepare(paths: Paths, env: dict[str, str], runner: Runner, binary: str | None, new_port: bool, *,
            sync_probe: bool = False) -> Prepared:
    """Re-read settings and validate a start: managed mode, port, password, binary, config, writable files
    (`sync_probe`: fsync the write probes, see check_writable)."""
    settings = load_settings(paths, env)
    _require_managed(settings, "start")
    plan = plan_identity(settings, new_port)
    chosen = process.select_binary(paths, runner, binary or pinned_binary(settings))  # `store upgrade` pins it
    cfg = StoreConfig(port=plan.port, password=plan.password, data_dir=paths.redis_data,
                      log_file=paths.log_file(state.COMPONENT), token=os.urandom(8).hex(),  # secrets.token_hex(8)
                      ipv6=ipv6_loopback_available())
    render_config(cfg)
    check_writable(paths, sync=sync_probe)
    return Prepared(settings, plan, chosen, cfg)
