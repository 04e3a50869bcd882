"""Turn the doctor's --only / --client values into DoctorOptions (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from ..doctor.suite import DoctorOptions
from ..errors import UsageError
from ..probes.base import Group

CLIENTS = ("auto", "node", "python")


def parse_only(values: Sequence[str] | None) -> frozenset[Group] | None:
    """--only store,postgres (repeatable, comma-separated) -> groups; UsageError on an unknown one."""
    if not values:
        return None
    groups = set()
    for value in values:
        for name in filter(None, (v.strip() for v in value.split(","))):
            try:
                groups.add(Group(name))
            except ValueError:
                raise UsageError(f"--only {name!r} is not one of store, postgres, server, files, queue",
                                 hint="cmem-ops doctor --only store") from None
    return frozenset(groups)


def build_options(only: Sequence[str], timeout: float, smoke: bool, client: str) -> DoctorOptions:
    """Validate the command line and build the options."""
    if client not in CLIENTS:
        raise UsageError(f"--client {client!r} is not one of auto, node, python", hint="cmem-ops doctor")
    return DoctorOptions(only=parse_only(only), timeout=timeout, smoke=smoke, client=client)
