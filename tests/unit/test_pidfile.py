import os
import subprocess
import sys

from cmem_ops.pidfile import PidRecord, ProcInfo, identify, read_environ, read_pidfile, read_proc, write_pidfile
from cmem_ops.wait import Deadline, poll
from tests.support import wait_exec


def spawn(token):
    """A real process whose command line carries the token, like our servers' process titles do."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", token])
    wait_exec(proc.pid, token)
    return proc


def test_identity_needs_start_time_and_token(tmp_path):
    proc = spawn("tok-1")
    try:
        info = read_proc(proc.pid)
        good = PidRecord(proc.pid, info.start_id, "tok-1", "test")
        assert identify(good) is not None
        assert identify(PidRecord(proc.pid, info.start_id, "tok-2", "test")) is None  # other token
        assert identify(PidRecord(proc.pid, "ticks:1", "tok-1", "test")) is None  # pid reused later
        write_pidfile(tmp_path / "x.pid", good)
        assert read_pidfile(tmp_path / "x.pid") == good
        assert oct(os.stat(tmp_path / "x.pid").st_mode & 0o777) == "0o600"
    finally:
        proc.kill()
        proc.wait()
    assert identify(good) is None  # wait() has reaped it: /proc no longer lists it


def test_zombie_is_not_alive():
    proc = subprocess.Popen([sys.executable, "-c", "pass", "tok-z"])

    def zombie() -> ProcInfo | None:
        info = read_proc(proc.pid)
        return info if info is not None and info.zombie else None

    info = poll(zombie, Deadline.after(5), what=f"pid {proc.pid} to exit and stay unreaped (a zombie)")
    assert info.zombie
    assert identify(PidRecord(proc.pid, info.start_id, "", "t")) is None
    proc.wait()


def test_unreadable_pidfile_is_stale(tmp_path):
    (tmp_path / "bad.pid").write_text("12345\n")
    assert read_pidfile(tmp_path / "bad.pid") is None
    assert read_pidfile(tmp_path / "missing.pid") is None


def test_read_environ_is_the_environment_a_live_process_was_started_with():
    # lives until its stdin closes (the kill below): no sleep to outlast
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "tok-env"], stdin=subprocess.PIPE,
                            env={"PATH": os.environ.get("PATH", ""), "CLAUDE_MEM_SERVER_PROVIDER": "openrouter",
                                 "ODD": "a=b"})
    try:
        wait_exec(proc.pid, "tok-env")
        env = read_environ(proc.pid)
        assert env is not None and env["CLAUDE_MEM_SERVER_PROVIDER"] == "openrouter" and env["ODD"] == "a=b"
    finally:
        proc.kill()
        proc.wait()
    assert read_environ(proc.pid) is None  # gone
