"""`cmem-ops up`: ensure the queue store, then run the doctor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..context import Context
from ..doctor.report import DoctorReport
from ..doctor.suite import DoctorOptions, run_doctor
from ..errors import OpsError
from ..probes.bullmq_node import find_node, find_npm, prepare_node_smoke
from . import store as store_service
from .store import StoreStatus


@dataclass(frozen=True)
class UpResult:
    store: StoreStatus
    doctor: DoctorReport


def prewarm_smoke(ctx: Context, say: Callable[[str], None]) -> None:
    """Install the Node BullMQ smoke once (npm ci), so the doctor's deadline is spent on checks."""
    if find_node() is None or find_npm() is None:
        return
    say("Preparing the BullMQ smoke client (npm ci, first run only)...")
    try:
        prepare_node_smoke(ctx.paths.cache_dir, 180.0)
    except OpsError as exc:
        say(f"warning: {exc.message}; the doctor will use the Python BullMQ port")


def up(ctx: Context, options: DoctorOptions, say: Callable[[str], None], timeout: float = 15.0) -> UpResult:
    """Start (or check) the queue store, then run the doctor over everything configured."""
    store = store_service.up(ctx, timeout=timeout)
    ctx = ctx.reload()
    if options.smoke:
        prewarm_smoke(ctx, say)
    return UpResult(store, run_doctor(ctx, options))
