"""`cmem-ops uninstall`: take the managed store off again, keeping queue data unless asked.

Stops the managed store only when its PID file proves it is ours; removes its PID file, config,
logs and the Valkey builds cmem-ops downloaded; removes a docker-mode container (its volume only
with purge); clears the settings keys cmem-ops writes. An external server is never touched, and
packages installed by apt/dnf/apk/pacman/brew stay (removing them is the user's call).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..containers.engine import Engine
from ..context import Context
from ..errors import OpsError
from ..installers.container import CONTAINER_NAME, VOLUME_NAME, config_dir, read_state, remove_container
from ..redaction import redact_text
from ..settings import KEY_URL, OWN_KEYS, RedisMode, write_settings_keys
from ..store import state


@dataclass(frozen=True)
class KeptKey:
    """A settings key uninstall left in place: its (redacted) value and why it is not cmem-ops' to remove."""

    key: str
    value: str
    source: str  # "settings.json" or "environment"
    why: str


@dataclass(frozen=True)
class UninstallResult:
    """What was (or, with dry_run, would be) stopped, removed, kept and cleared."""

    dry_run: bool
    mode: str
    stopped: str | None
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    cleared_keys: tuple[str, ...]
    messages: tuple[str, ...] = field(default=())
    kept_keys: tuple[KeptKey, ...] = field(default=())


def _managed_files(ctx: Context, purge_data: bool) -> tuple[list[Path], list[Path]]:
    """(to remove, to keep) among the managed store's files."""
    paths = ctx.paths
    remove = [p for p in (paths.redis_pid, paths.redis_conf, paths.redis_lock, config_dir(paths)) if p.exists()]
    remove += paths.log_files(state.COMPONENT)
    if paths.valkey_bin_root.exists():
        remove.append(paths.valkey_bin_root)
    keep: list[Path] = []
    if paths.redis_data.exists():
        (remove if purge_data else keep).append(paths.redis_data)
    return remove, keep


def _stop_stack_processes(ctx: Context, dry_run: bool) -> list[str]:
    """Stop the claude-mem workers and server cmem-ops started (identity-checked); say what happened."""
    from . import server as server_service
    from . import worker as worker_service
    from .summary import process_line

    server = process_line(ctx, "server")
    workers = [w for w in worker_service.status(ctx).workers if w.running]
    if not server.running and not workers:
        return []
    if dry_run:
        return [f"would stop {len(workers)} worker(s) and the claude-mem server first" if server.running
                else f"would stop {len(workers)} worker(s) first"]
    notes = []
    if workers:
        report = worker_service.stop(ctx)
        notes.append(f"stopped {len(report.workers)} claude-mem worker(s) first")
    if server.running:
        stopped = server_service.stop(ctx)
        notes.append(f"stopped the claude-mem server (pid {stopped.pid}, {stopped.how}) first")
    return notes


def uninstall(ctx: Context, *, purge_data: bool = False, dry_run: bool = False,
              timeout: float = 15.0) -> UninstallResult:
    """Undo `cmem-ops install`; queue data survives unless `purge_data`."""
    settings = ctx.settings
    mode = settings.redis_mode
    messages: list[str] = []
    removed: list[str] = []
    kept: list[str] = []
    stopped = None

    engine = None
    container = None
    if mode is RedisMode.DOCKER:
        engine = Engine.connect()  # raises with a hint before anything changes when the engine is down
        container = read_state(engine, CONTAINER_NAME)
        if container.exists and not container.ours:
            raise OpsError(f"a container named {CONTAINER_NAME} exists but was not created by cmem-ops; "
                           "nothing was changed", hint=f"docker rm -f {CONTAINER_NAME}   (if it is yours to remove)")

    # claude-mem's server and workers use this store: stop ours first, so none is left retrying against it.
    messages += _stop_stack_processes(ctx, dry_run)

    record = state.running_record(ctx.paths)
    if record is not None:
        stopped = f"would stop the managed store (pid {record.pid})" if dry_run else None
        if not dry_run:
            from .store_control import stop_managed

            stopped = stop_managed(ctx.paths, settings, timeout).message
    elif mode is RedisMode.EXTERNAL:
        target = settings.redis_target()
        messages.append(f"the external store {target.address if target else ''} is not ours: left alone")

    if engine is not None and container is not None:
        if container.exists:
            removed.append(f"container {CONTAINER_NAME}")
        (removed if purge_data else kept).append(f"volume {VOLUME_NAME}")
        if not dry_run:
            _, volume_removed = remove_container(engine=engine, purge_volume=purge_data, timeout=timeout)
            if purge_data and not volume_removed:
                removed.remove(f"volume {VOLUME_NAME}")

    to_remove, to_keep = _managed_files(ctx, purge_data)
    for path in to_remove:
        removed.append(str(path))
        if not dry_run:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    kept += [str(p) for p in to_keep]
    if to_keep:
        messages.append(f"queue data kept in {ctx.paths.redis_data}; remove it with: cmem-ops uninstall --purge-data")
    if purge_data and not dry_run and ctx.paths.redis_dir.is_dir() and not any(ctx.paths.redis_dir.iterdir()):
        ctx.paths.redis_dir.rmdir()

    present = [k for k in OWN_KEYS if k in settings.file_values]
    kept_keys: list[KeptKey] = []
    user_url = settings.file_values.get(KEY_URL) if mode is RedisMode.EXTERNAL else None
    if user_url:
        # An external URL is the user's (or was given to `install --redis-url` by them): never ours to delete.
        present.remove(KEY_URL)
        shown = redact_text(str(user_url))
        kept_keys.append(KeptKey(KEY_URL, shown, "settings.json",
                                 "it names a store you configured (external mode), not one cmem-ops manages"))
        messages.append(f"kept {KEY_URL}={shown} in {ctx.paths.settings_file}: "
                        "it names a store you configured, not one cmem-ops manages")
    if present and not dry_run:
        write_settings_keys(ctx.paths, dict.fromkeys(present))
    from_env = [k for k in OWN_KEYS if settings.env.get(k)]
    if from_env:
        kept_keys += [KeptKey(k, redact_text(str(settings.env.get(k))), "environment",
                              "set in the environment, which cmem-ops cannot change: unset it yourself")
                      for k in from_env]
        messages.append("some settings come from the environment (" + ", ".join(from_env) + "): unset them yourself")
    return UninstallResult(dry_run, mode.value, stopped, tuple(removed), tuple(kept), tuple(present),
                           tuple(messages), tuple(kept_keys))
