"""The runtime's pinned versions, read from pins.json (versions are data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class BunPin:
    """The npm package that carries bun for one platform, and the binary's path inside it."""

    package: str
    version: str
    binary: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


@dataclass(frozen=True)
class Pins:
    """Everything install needs to know about versions."""

    default_version: str
    node_min: tuple[int, ...]
    companions: dict[str, tuple[str, ...]]
    default_companions: str
    bun_version: str
    bun_packages: dict[str, BunPin]

    def companions_for(self, version: str) -> tuple[tuple[str, ...], bool]:
        """The better-auth family pins for `version`, and whether they were verified with it."""
        if version in self.companions:
            return self.companions[version], True
        return self.companions[self.default_companions], False

    def bun_for(self, platform_key: str) -> BunPin | None:
        """The bun package for 'linux-x86_64-glibc' and the like; None where bun is not pinned."""
        return self.bun_packages.get(platform_key)


def parse_pins(data: dict[str, Any]) -> Pins:
    """Build Pins from the parsed pins.json (pure)."""
    bun = data["bun"]
    return Pins(
        default_version=str(data["default_version"]),
        node_min=tuple(int(p) for p in str(data["node_min"]).split(".")),
        companions={str(k): tuple(str(s) for s in v) for k, v in data["companions"].items()},
        default_companions=str(data["default_companions"]),
        bun_version=str(bun["version"]),
        bun_packages={str(k): BunPin(str(v["package"]), str(bun["version"]), str(v["binary"]))
                      for k, v in bun["packages"].items()},
    )


def load_pins() -> Pins:
    """The pins shipped inside the package."""
    text = resources.files(__package__ or "cmem_ops.runtime").joinpath("pins.json").read_text(encoding="utf-8")
    return parse_pins(json.loads(text))
