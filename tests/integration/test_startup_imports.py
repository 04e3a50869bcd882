"""The start-up paths stay lean: what `store start`, `status --json` and `store status` import.

bench/cli_startup.py measures the time; this test pins the cause, so a regression shows up in CI
(where timings are noise) as a named module. Each command runs for real, against a real managed
store, in a fresh interpreter that reports which of the modules below it ended up importing:

- dataclasses (and inspect under it): a frozen dataclass costs ~1 ms to define, the import ~10 ms;
  records on these paths are NamedTuples (cmem_ops/__init__.py, "Start-up").
- random/hashlib, datetime: ~1.5 ms and ~2 ms, replaced by os.urandom and time.strftime.
- the docker SDK, requests, redis-py, psycopg, rich: libraries of other commands, 20-150 ms each.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration

HEAVY = ("dataclasses", "inspect", "random", "hashlib", "datetime",
         "docker", "requests", "redis", "psycopg", "rich")

REPORT = """
import json, sys
sys.argv = ["cmem-ops", *sys.argv[1:]]
from cmem_ops.cli.main import main
try:
    code = main()
finally:
    sys.stdout.flush()
    heavy = json.loads(sys.stdin.readline())
    print("\\nIMPORTED " + json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def imported(env: dict[str, str], *args: str) -> list[str]:
    """The HEAVY modules a real `cmem-ops ARGS` imported (it must succeed)."""
    out = subprocess.run([sys.executable, "-c", REPORT, *args], env=env, input=json.dumps(HEAVY) + "\n",
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(line for line in out.stderr.splitlines() if line.startswith("IMPORTED "))
    return list(json.loads(line.removeprefix("IMPORTED ")))


def test_fast_paths_import_none_of_the_heavy_modules(tmp_path):
    env = user_env(tmp_path)
    try:
        assert imported(env, "store", "start") == []  # a fresh data dir: the full start, not an adoption
        assert imported(env, "status", "--json") == []
        assert imported(env, "store", "status") == []
        assert imported(env, "--version") == []
    finally:
        run_cli(env, "store", "stop")
