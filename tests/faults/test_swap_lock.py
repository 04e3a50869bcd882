"""A restore is one critical section: `store start` looping in 4 processes cannot start the old data between."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import world
from tests.faults.world import assert_settings_name_the_server, cli, write_acked
from tests.support import real_binaries

pytestmark = pytest.mark.faults

LOOPERS = 4

# Runs `cmem-ops store start` again and again until the flag file appears; writes each exit code
# (and any traceback) where the test can read them.
LOOP = """
import subprocess, sys
from pathlib import Path
flag, log = Path(sys.argv[1]), Path(sys.argv[2])
codes = []
while not flag.exists():
    out = subprocess.run([sys.executable, "-m", "cmem_ops", "store", "start"], capture_output=True, text=True,
                         timeout=120)
    codes.append(str(out.returncode))
    if "Traceback" in out.stderr:
        log.with_suffix(".tb").write_text(out.stderr)
log.write_text(" ".join(codes))
"""


def test_a_restore_with_concurrent_starts_ends_on_the_restored_data(started, tmp_path):
    env = started
    backed_up = write_acked(env, "backup", n=300)
    out = cli(env, "store", "backup", "--to", str(tmp_path / "out"), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    archive = next((tmp_path / "out").glob("*.tar.gz"))
    c = world.client(env)
    c.flushall()
    write_acked(env, "after-backup", n=20)  # the data a slipped-in start would bring back

    flag = tmp_path / "stop-looping"
    loopers = [subprocess.Popen([sys.executable, "-c", LOOP, str(flag), str(tmp_path / f"looper-{i}.log")],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(LOOPERS)]
    try:
        restore = cli(env, "store", "restore", str(archive), "--json", timeout=180)
    finally:
        flag.touch()
        for proc in loopers:
            proc.wait(timeout=120)
    assert restore.returncode == 0, restore.stdout + restore.stderr
    logs = [Path(tmp_path / f"looper-{i}.log") for i in range(LOOPERS)]
    tracebacks = list(tmp_path.glob("looper-*.tb"))
    assert not tracebacks, tracebacks[0].read_text()
    codes = [code for log in logs for code in log.read_text().split()]
    assert codes and set(codes) <= {"0"}, f"store start exit codes during the restore: {codes}"

    assert_settings_name_the_server(env)
    c = world.client(env)
    assert c.dbsize() == len(backed_up), f"{c.dbsize()} keys after the restore, the backup had {len(backed_up)}"
    assert c.get("after-backup:0") is None and c.get("backup:299") == b"value-299"


def _binary(label: str) -> str:
    found = {b.label: b for b in real_binaries()}.get(label)
    if found is None or found.path is None:
        pytest.skip(f"{label} is not installed here ({found.why_missing if found else 'unknown label'})")
    return str(found.path)


def test_an_upgrade_with_concurrent_starts_ends_on_the_new_server_with_every_key(env, tmp_path):
    old, new = _binary("redis-7.0"), _binary("redis-8.2")
    settings = world.data_dir(env) / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"CMEM_OPS_STORE_BINARY": old}))  # plain `store start` runs the old one
    assert cli(env, "store", "start").returncode == 0
    c = world.client(env)
    pipe = c.pipeline(transaction=False)
    for chunk in range(0, 200_000, 10_000):
        pipe.mset({f"bulk:{i}": "v" * 20 for i in range(chunk, chunk + 10_000)})
    pipe.execute()
    keys = c.dbsize()

    flag = tmp_path / "stop-looping"
    loopers = [subprocess.Popen([sys.executable, "-c", LOOP, str(flag), str(tmp_path / f"looper-{i}.log")],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(LOOPERS)]
    try:
        upgrade = cli(env, "store", "upgrade", "--binary", new, "--no-smoke", "--json", timeout=240)
    finally:
        flag.touch()
        for proc in loopers:
            proc.wait(timeout=120)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    tracebacks = list(tmp_path.glob("looper-*.tb"))
    assert not tracebacks, tracebacks[0].read_text()

    assert_settings_name_the_server(env)
    server = world.servers(env)[0]
    assert os.path.realpath(f"/proc/{server}/exe") == os.path.realpath(new), "the old binary runs the data"
    assert world.settings_of(env)["CMEM_OPS_STORE_BINARY"] == new
    assert world.client(env).dbsize() == keys
