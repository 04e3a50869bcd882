"""`cmem-ops status --watch` in a real terminal (tmux): it redraws with rates and exits 0 on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmem_ops.metrics.lanes import EVENT_QUEUE
from cmem_ops.wait import Deadline, poll
from tests.support import RunningServer, user_env

pytestmark = pytest.mark.integration
bullmq = pytest.importorskip("bullmq", reason="Python bullmq is missing: pip install 'cmem-ops[bullmq]'")
PREFIX = "claude_mem_watch"


@pytest.fixture
def tmux() -> Iterator[list[str]]:
    """argv prefix of a private tmux server (its own socket), killed afterwards."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install -y tmux)")
    argv = ["tmux", "-L", f"cmem-ops-test-{uuid.uuid4().hex[:8]}"]
    yield argv
    subprocess.run([*argv, "kill-server"], capture_output=True, timeout=10, check=False)


async def add_jobs(url: str, n: int) -> None:
    queue = bullmq.Queue(EVENT_QUEUE, {"connection": url, "prefix": PREFIX})
    for i in range(n):
        await queue.add("generate", {"i": i})
    await queue.close()


def test_watch_redraws_with_rates_and_exits_cleanly_on_ctrl_c(tmp_path: Path, valkey: RunningServer,
                                                              tmux: list[str]) -> None:
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=valkey.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX,
                   PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    command = f"{shlex.quote(sys.executable)} -m cmem_ops status --watch; echo EXIT=$?"
    subprocess.run([*tmux, "new-session", "-d", "-s", "w", "-x", "120", "-y", "30", command], env=env,
                   check=True, timeout=10)
    subprocess.run([*tmux, "set-option", "-t", "w", "remain-on-exit", "on"], check=True, timeout=10)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p", "-t", "w"], capture_output=True, text=True,
                              timeout=10, check=True).stdout

    def showing(text: str) -> str | None:
        current = screen()
        return current if text in current else None

    first = poll(lambda: showing("done/s"), Deadline.after(30), what="the watch screen with rates")
    assert "cmem-ops status --watch" in first and "Lane event: waiting 0" in first
    asyncio.run(add_jobs(valkey.url, 3))
    grown = poll(lambda: showing("Lane event: waiting 3"), Deadline.after(15), what="the redraw with 3 jobs")
    assert re.search(r"Lane event: waiting 3 .* backlog \+[1-9]", grown), grown  # the frame that saw them come
    subprocess.run([*tmux, "send-keys", "-t", "w", "C-c"], check=True, timeout=10)
    final = poll(lambda: showing("EXIT="), Deadline.after(15), what="the watch to exit after Ctrl-C")
    assert "EXIT=0" in final and "Traceback" not in final and "KeyboardInterrupt" not in final
