import subprocess
import sys

from cmem_ops.lifecycle.bundle import (
    TOKEN_FLAG,
    build_argv,
    record_path,
    running_record,
    stop_component,
    worker_component,
    worker_components,
    worker_index,
)
from cmem_ops.paths import Paths
from cmem_ops.pidfile import PidRecord, read_proc, write_pidfile
from tests.support import pid_alive, wait_exec


class FakeRuntime:
    bundle = "/rt/server-service.cjs"
    version = "13.25.3"

    def argv(self, *args):
        return ["/rt/bun", "--no-install", self.bundle, *args]

    def env(self):
        return {}


def test_the_token_rides_at_the_end_of_argv():
    assert build_argv(FakeRuntime(), ["worker", "start"], "abc") == \
        ["/rt/bun", "--no-install", "/rt/server-service.cjs", "worker", "start", f"{TOKEN_FLAG}abc"]


def test_worker_names(tmp_path):
    paths = Paths(tmp_path)
    assert worker_component(3) == "worker-3" and worker_index("worker-12") == 12
    assert worker_index("server") is None and worker_index("worker-x") is None
    assert worker_components(paths) == []
    paths.run_dir.mkdir()
    for name in ("worker-10", "worker-2", "server", "worker-x"):
        (paths.run_dir / f"{name}.json").write_text("{}")
    assert worker_components(paths) == ["worker-2", "worker-10"]


def test_a_record_pointing_at_an_unrelated_live_process_is_never_signalled(tmp_path):
    paths = Paths(tmp_path)
    paths.run_dir.mkdir()
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        wait_exec(unrelated.pid, "time.sleep(30)")
        info = read_proc(unrelated.pid)
        # same pid and start time, but no token of ours in its command line
        write_pidfile(record_path(paths, "server"), PidRecord(unrelated.pid, info.start_id, "f00dfeed", "server"))
        assert running_record(paths, "server") is None
        how, pid = stop_component(paths, "server", grace_s=1)
        assert "nothing signalled" in how and pid == unrelated.pid
        assert pid_alive(unrelated.pid) and not record_path(paths, "server").exists()
        # the right token but another start time (a reused pid): not ours either
        write_pidfile(record_path(paths, "worker-1"), PidRecord(unrelated.pid, "ticks:1", "", "worker-1"))
        how, _ = stop_component(paths, "worker-1", grace_s=1)
        assert "nothing signalled" in how and pid_alive(unrelated.pid)
    finally:
        unrelated.kill()
        unrelated.wait()


def test_our_own_process_is_stopped(tmp_path):
    paths = Paths(tmp_path)
    paths.run_dir.mkdir()
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", f"{TOKEN_FLAG}cafe"],
                            start_new_session=True)
    wait_exec(ours.pid, f"{TOKEN_FLAG}cafe")
    info = read_proc(ours.pid)
    write_pidfile(record_path(paths, "worker-1"), PidRecord(ours.pid, info.start_id, "cafe", "worker-1"))
    assert running_record(paths, "worker-1") is not None
    how, pid = stop_component(paths, "worker-1", grace_s=5)
    ours.wait(5)
    assert how == "terminated" and pid == ours.pid and ours.returncode is not None
    assert not record_path(paths, "worker-1").exists()
