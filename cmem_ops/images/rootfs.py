"""A container root filesystem staged in a directory: binaries with their ldd libraries, busybox, files.

No registry and no base image: an image is a directory holding exactly what its programs load
(`ldd` says which libraries), a static busybox for the shell, `wget`, `start-stop-daemon` and friends, and a
minimal /etc. `write_tar` packs it with ownership taken from a map (so staging needs no root and
no chown), ready for `docker import`.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MissingError
from ..runner import Runner

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
BUSYBOX_HINT = "apt-get install -y busybox-static   (a static busybox gives the images their shell)"
BUSYBOX_APPLETS = ("sh", "cat", "sed", "grep", "wget", "start-stop-daemon", "mkdir", "chown", "chmod", "id", "env",
                   "ls", "rm", "mktemp", "printf", "test", "[", "sleep", "echo", "head", "tail", "nc", "ps", "kill",
                   "su", "awk", "ln", "date")


@dataclass
class Rootfs:
    """A root filesystem being staged under `root`, with the owner of each path that is not root's."""

    root: Path
    owners: dict[str, tuple[int, int]] = field(default_factory=dict)  # path in image -> (uid, gid)
    modes: dict[str, int] = field(default_factory=dict)

    def path(self, in_image: str) -> Path:
        """The host path of `in_image` inside the staging directory."""
        return self.root / in_image.lstrip("/")

    def mkdir(self, in_image: str, *, owner: tuple[int, int] | None = None, mode: int = 0o755) -> None:
        """Create a directory (and parents) owned by `owner` in the image."""
        self.path(in_image).mkdir(parents=True, exist_ok=True)
        self.modes[in_image.rstrip("/")] = mode
        if owner:
            self.owners[in_image.rstrip("/")] = owner

    def write(self, in_image: str, text: str, mode: int = 0o644) -> None:
        """Write a text file at `in_image`."""
        target = self.path(in_image)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.modes[in_image] = mode

    def copy_file(self, source: Path, in_image: str, mode: int | None = None) -> None:
        """Copy `source` (symlinks resolved) to `in_image`."""
        target = self.path(in_image)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=True)
        if mode is not None:
            self.modes[in_image] = mode

    def copy_tree(self, source: Path, in_image: str, *, ignore: Iterable[str] = ()) -> None:
        """Copy a directory tree as it is (symlinks kept) to `in_image`."""
        shutil.copytree(source, self.path(in_image), symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*ignore) if ignore else None)

    def symlink(self, target: str, in_image: str) -> None:
        """A symlink at `in_image` pointing to `target`."""
        link = self.path(in_image)
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(target, link)


def parse_ldd(text: str) -> list[str]:
    """The absolute library paths in `ldd` output, in order, without repeats (pure).

    Lines look like `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, `/lib64/ld-linux-x86-64.so.2
    (0x...)` or `linux-vdso.so.1 (0x...)` (no file: skipped); a static binary prints `not a dynamic
    executable`; with several files, each block starts with a `/path/to/file:` header line.
    """
    found: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "=>" and parts[2].startswith("/"):
            found.append(parts[2])
        elif parts and parts[0].startswith("/") and not line.rstrip().endswith(":"):  # not a `file:` header
            found.append(parts[0])
    return list(dict.fromkeys(found))


def copy_with_libraries(fs: Rootfs, runner: Runner, binaries: Mapping[Path, str]) -> None:
    """Copy each host binary to its path in the image, and every library `ldd` lists at the same path."""
    libraries: list[str] = []
    for source, in_image in binaries.items():
        fs.copy_file(source, in_image, mode=0o755)
        done = runner.run(["ldd", str(source)], timeout=30)
        libraries += parse_ldd(done.stdout) if done.ok else []
    for library in dict.fromkeys(libraries):
        fs.copy_file(Path(library), library)


def find_busybox() -> Path:
    """The host's static busybox; MissingError naming the package otherwise."""
    for candidate in BUSYBOX_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MissingError("no busybox on this machine: the images need it for their shell and health checks",
                       hint=BUSYBOX_HINT)


def add_base(fs: Rootfs, runner: Runner, busybox: Path, users: Mapping[str, int]) -> None:
    """busybox with its applets in /bin, /tmp, /run, /etc/passwd and /etc/group with `users` (name -> uid).

    busybox-static needs no library; a dynamic busybox brings the ones ldd lists.
    """
    copy_with_libraries(fs, runner, {busybox: "/bin/busybox"})
    for applet in BUSYBOX_APPLETS:
        fs.symlink("busybox", f"/bin/{applet}")
    fs.mkdir("/tmp", mode=0o1777)
    fs.mkdir("/run")
    fs.symlink("/run", "/var/run")
    passwd = ["root:x:0:0:root:/root:/bin/sh"] + [f"{n}:x:{u}:{u}:{n}:/nonexistent:/bin/sh" for n, u in users.items()]
    group = ["root:x:0:"] + [f"{n}:x:{u}:" for n, u in users.items()]
    fs.write("/etc/passwd", "\n".join(passwd) + "\n")
    fs.write("/etc/group", "\n".join(group) + "\n")


def write_tar(fs: Rootfs, out: Path) -> None:
    """Pack the staged tree into `out` with numeric owners from `fs.owners` (root elsewhere) and `fs.modes`."""
    def owner_of(name: str) -> tuple[int, int]:
        path = "/" + name.lstrip("./")
        while True:
            if path in fs.owners:
                return fs.owners[path]
            if path in ("/", ""):
                return (0, 0)
            path = path.rsplit("/", 1)[0] or "/"

    def fix(info: tarfile.TarInfo) -> tarfile.TarInfo:
        uid, gid = owner_of(info.name)
        info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
        mode = fs.modes.get("/" + info.name.lstrip("./"))
        if mode is not None:
            info.mode = mode
        return info

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(fs.root.iterdir()):
            tar.add(entry, arcname=entry.name, filter=fix)
