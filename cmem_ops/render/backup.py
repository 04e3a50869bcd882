"""Text views of backups, restores, store upgrades and support bundles (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..backup.create import BackupResult
    from ..backup.restore import RestoreResult
    from ..lifecycle.support_bundle import SupportBundle
    from ..lifecycle.upgrade import UpgradeResult


def format_size(size: int) -> str:
    """1536 -> '1.5 KiB' (pure)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def format_backup(result: BackupResult) -> list[str]:
    """What `backup` / `store backup` wrote (pure)."""
    m = result.manifest
    lines = [f"Backup: {result.archive} ({format_size(result.size)}, {result.elapsed_ms / 1000:.1f}s)"]
    if m.postgres is not None:
        pg = m.postgres
        lines.append(f"Postgres: {pg.database} ({pg.mode}, PostgreSQL {pg.server_version}, pg_dump "
                     f"{pg.pg_dump_version}): {pg.rows} rows in {len(pg.tables)} tables")
    if m.store is not None:
        st = m.store
        lines.append(f"Store: {st.flavour} {st.version}, {st.keys} keys ({st.expires} with a TTL), {st.rdb}, "
                     f"checked: {st.check}")
    return lines


def format_restore(result: RestoreResult) -> list[str]:
    """What `restore` / `store restore` did (pure)."""
    lines = [f"Restored from {result.archive} ({result.manifest.created_at}) in {result.elapsed_ms / 1000:.1f}s"]
    if result.postgres_rows is not None:
        lines.append(f"Postgres: {sum(result.postgres_rows.values())} rows in {len(result.postgres_rows)} tables, "
                     "as the manifest says")
    if result.store_keys is not None:
        lines.append(f"Store: {result.store_keys.keys} keys, as the manifest says")
    if result.restarted:
        lines.append(f"Started again: {', '.join(result.restarted)}")
    lines += [f"Note: {note}" for note in result.notes]
    return lines


def format_upgrade(result: UpgradeResult) -> list[str]:
    """What `store upgrade` did (pure)."""
    return [f"Upgraded the managed store: {result.from_label} -> {result.to_label} ({result.to_binary})",
            f"Keys: {result.keys.keys} ({result.keys.expires} with a TTL), the same as before",
            f"BullMQ smoke: {result.smoke}",
            f"Backup taken first: {result.backup}",
            f"Data before the switch kept in: {result.aside}"]


def format_bundle(bundle: SupportBundle) -> list[str]:
    """The bundle's path and what it holds (pure)."""
    lines = [f"Support bundle: {bundle.path} ({len(bundle.entries)} files, {bundle.secrets_scrubbed} known secrets "
             "scrubbed)"]
    width = max((len(e.name) for e in bundle.entries), default=0)
    lines += [f"  {e.name.ljust(width)}  {format_size(e.size):>9}  {e.what}" for e in bundle.entries]
    return lines
