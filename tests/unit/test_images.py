"""images/: ldd output parsed (captured on Debian 12), the root filesystem packed with its owners, recipe digests."""

from __future__ import annotations

import tarfile
from pathlib import Path

from cmem_ops.images.recipes import Recipe
from cmem_ops.images.rootfs import Rootfs, parse_ldd, write_tar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "images"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_ldd_lists_every_library_with_a_path_and_the_loader() -> None:
    libs = parse_ldd(fixture("ldd-pg_isready-debian12.txt"))
    assert "/lib/x86_64-linux-gnu/libc.so.6" in libs and "/lib64/ld-linux-x86-64.so.2" in libs
    assert any(lib.endswith("/libpq.so.5") for lib in libs)
    assert not any("vdso" in lib for lib in libs) and len(libs) == len(set(libs))


def test_ldd_of_several_files_skips_their_headers_and_repeats() -> None:
    assert parse_ldd(fixture("ldd-two-files-debian12.txt")) == ["/lib/x86_64-linux-gnu/libc.so.6",
                                                               "/lib64/ld-linux-x86-64.so.2"]


def test_a_static_binary_has_no_library() -> None:
    assert parse_ldd(fixture("ldd-static-busybox-debian12.txt")) == []


def test_the_tar_carries_owners_and_modes_from_the_maps_not_the_stager(tmp_path: Path) -> None:
    fs = Rootfs(tmp_path / "root")
    fs.root.mkdir()
    fs.mkdir("/data", owner=(999, 999), mode=0o700)
    fs.write("/data/inside", "x")
    fs.write("/usr/local/bin/entry", "#!/bin/sh\n", mode=0o755)
    fs.symlink("/run", "/var/run")
    out = tmp_path / "rootfs.tar"
    write_tar(fs, out)
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert (members["data"].uid, members["data"].gid, members["data"].mode) == (999, 999, 0o700)
    assert members["data/inside"].uid == 999  # owners are inherited below a mapped directory
    assert members["usr/local/bin/entry"].uid == 0 and members["usr/local/bin/entry"].mode == 0o755
    assert members["var/run"].issym() and members["var/run"].linkname == "/run"


def test_the_digest_names_the_inputs() -> None:
    def recipe(*inputs: tuple[str, str]) -> Recipe:
        return Recipe("x", "local/x:1", inputs, lambda fs, runner: None, ())

    assert recipe(("a", "1")).digest == recipe(("a", "1")).digest
    assert recipe(("a", "1")).digest != recipe(("a", "2")).digest
