"""`cmem-ops backup`, `restore`, `store backup`, `store restore`, `store upgrade`, `support-bundle`.

Thin: each handler builds the context, calls one service (backup/, lifecycle/upgrade.py,
lifecycle/support_bundle.py) with progress going to stderr, and renders render/backup.py's lines.
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from . import output


def _dir(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None


def store_backup(args: Namespace) -> int:
    """A checked snapshot of the managed queue store, in one archive with its manifest."""
    from ..backup.create import backup_store
    from ..context import build_context
    from ..render.backup import format_backup

    return output.run("store.backup", args.as_json,
                      lambda: backup_store(build_context(), _dir(args.to), timeout=args.timeout or 300.0,
                                           say=output.say), format_backup)


def store_restore(args: Namespace) -> int:
    """Restore the managed queue store from an archive; the old data is kept aside."""
    from ..backup.restore import restore_store_archive
    from ..context import build_context
    from ..render.backup import format_restore

    return output.run("store.restore", args.as_json,
                      lambda: restore_store_archive(build_context(), Path(args.file), timeout=args.timeout or 600.0,
                                                    say=output.say), format_restore)


def store_upgrade(args: Namespace) -> int:
    """Back up, switch the managed store to another server binary, verify, roll back on failure."""
    from ..context import build_context
    from ..lifecycle.upgrade import upgrade
    from ..render.backup import format_upgrade

    return output.run("store.upgrade", args.as_json,
                      lambda: upgrade(build_context(), to=args.to, binary=args.binary, timeout=args.timeout or 300.0,
                                      smoke=not args.no_smoke, say=output.say), format_upgrade)


def backup(args: Namespace) -> int:
    """pg_dump of claude-mem's database, then the queue store snapshot, in one archive."""
    from ..backup.create import backup_stack
    from ..context import build_context
    from ..render.backup import format_backup

    return output.run("backup", args.as_json,
                      lambda: backup_stack(build_context(), _dir(args.to), timeout=args.timeout or 1800.0,
                                           say=output.say, docker=args.docker), format_backup)


def restore(args: Namespace) -> int:
    """Restore Postgres and the queue store from a backup archive."""
    from ..backup.restore import restore_stack_archive
    from ..context import build_context
    from ..render.backup import format_restore

    return output.run("restore", args.as_json,
                      lambda: restore_stack_archive(build_context(), Path(args.file), timeout=args.timeout or 1800.0,
                                                    say=output.say, force_external=args.force_external,
                                                    docker=args.docker),
                      format_restore)


def support_bundle(args: Namespace) -> int:
    """One archive to attach to a bug report, every secret removed; prints what it holds."""
    from ..context import build_context
    from ..lifecycle.support_bundle import build_bundle
    from ..render.backup import format_bundle

    return output.run("support-bundle", args.as_json,
                      lambda: build_bundle(build_context(tolerate_bad_settings=True), _dir(args.output),
                                           timeout=args.timeout or 15.0, log_lines=args.lines, say=output.say,
                                           docker=args.docker),
                      format_bundle)
