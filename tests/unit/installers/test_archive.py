"""Safe extraction against archives built here, including hostile ones."""

from __future__ import annotations

import io
import tarfile

import pytest

from cmem_ops.installers.archive import UnsafeArchiveError, extract_release

TOP = "valkey-9.1.2-noble-x86_64"


def build(path, members):
    """members: (name, kind, payload) with kind file|dir|symlink|hardlink|fifo."""
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode()
                info.size, info.mode = len(data), 0o755
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                         "fifo": tarfile.FIFOTYPE}[kind]
            info.linkname = payload
            info.mode = 0o755
            tar.addfile(info)
    return path


def good_members():
    return [(TOP, "dir", ""), (f"{TOP}/bin", "dir", ""), (f"{TOP}/bin/valkey-server", "file", "#!/bin/sh\n"),
            (f"{TOP}/bin/valkey-cli", "symlink", "valkey-server")]


def test_extracts_below_the_top_dir(tmp_path):
    archive = build(tmp_path / "a.tar.gz", good_members())
    written = extract_release(archive, tmp_path / "out", TOP)
    assert written == ["bin", "bin/valkey-server", "bin/valkey-cli"]
    assert (tmp_path / "out/bin/valkey-server").read_text() == "#!/bin/sh\n"
    assert (tmp_path / "out/bin/valkey-server").stat().st_mode & 0o100
    assert (tmp_path / "out/bin/valkey-cli").is_symlink()


@pytest.mark.parametrize(("bad", "why"), [
    ((f"{TOP}/../../evil", "file", "x"), "contains '..'"),
    (("../evil", "file", "x"), "contains '..'"),
    (("/etc/evil", "file", "x"), "absolute path"),
    (("other-dir/evil", "file", "x"), "outside the release directory"),
    ((f"{TOP}/bin/link", "symlink", "../../../../etc/passwd"), "links outside"),
    ((f"{TOP}/bin/link", "symlink", "/etc/passwd"), "absolute path"),
    ((f"{TOP}/bin/fifo", "fifo", ""), "special file"),
])
def test_hostile_archives_are_refused_whole(tmp_path, bad, why):
    archive = build(tmp_path / "a.tar.gz", [*good_members(), bad])
    with pytest.raises(UnsafeArchiveError) as info:
        extract_release(archive, tmp_path / "out", TOP)
    assert why in info.value.message and info.value.hint
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil").exists()


def test_truncated_and_empty_archives(tmp_path):
    archive = build(tmp_path / "a.tar.gz", good_members())
    data = archive.read_bytes()
    (tmp_path / "t.tar.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(UnsafeArchiveError):
        extract_release(tmp_path / "t.tar.gz", tmp_path / "out", TOP)
    empty = build(tmp_path / "e.tar.gz", [(TOP, "dir", "")])
    with pytest.raises(UnsafeArchiveError, match="nothing under"):
        extract_release(empty, tmp_path / "out2", TOP)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive"):
        extract_release(tmp_path / "junk.tar.gz", tmp_path / "out3", TOP)
