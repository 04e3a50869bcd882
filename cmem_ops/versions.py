"""Version comparison, done one way: packaging.version (PEP 440), so `13.25.3-beta.1` < `13.25.3`.

Hand-rolled tuples got pre-releases wrong (`13.25.3-beta.1` sorted after `13.25.3`, so the beta was
picked). Every version ordering in the package goes through here. packaging.version costs ~20 ms to
import, so it is imported inside the functions: `status` and `doctor` pay for it only when they compare.

    parse_version("v13.25.3-beta.1")  -> Version('13.25.3b1')    (None for text that is no version)
    version_key(text)                 -> a sort key; text that is no version sorts before every version
    at_least("7.0.15", "6.2")         -> True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.version import Version

VersionKey = tuple[int, "Version | None", str]

def parse_version(text: str) -> Version | None:
    """`text` as a Version, accepting a leading `v` and semver pre-release spellings; None when it is none (pure)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text.strip().removeprefix("v"))
    except InvalidVersion:
        return None


def version_key(text: str) -> VersionKey:
    """Sort key: versions in release order (pre-releases before their release), non-versions first by text (pure)."""
    version = parse_version(text)
    return (0, None, text) if version is None else (1, version, "")


def at_least(text: str, minimum: str) -> bool:
    """True when `text` parses as a version >= `minimum`; False when it does not parse (pure)."""
    version = parse_version(text)
    floor = parse_version(minimum)
    return version is not None and floor is not None and version >= floor

