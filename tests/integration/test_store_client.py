"""store_client / store_answer against every real server flavour installed here."""

from __future__ import annotations

import pytest

from cmem_ops.redis_url import RedisTarget
from cmem_ops.resp import NoAuthError, UnknownCommandError
from cmem_ops.store.flavour import Flavour
from cmem_ops.store_answer import Failure, ask
from cmem_ops.store_client import open_store, ping, ping_error
from tests.support import free_port, real_binaries, real_server

pytestmark = pytest.mark.integration
BINARIES = real_binaries()


@pytest.fixture(params=BINARIES, ids=[b.label for b in BINARIES])
def binary(request):
    if request.param.path is None:
        pytest.skip(request.param.why_missing)
    return request.param


def test_ask_says_what_answered(binary, tmp_path):
    with real_server(binary.path, tmp_path / "s", password="pw") as server:
        answer = ask(RedisTarget("127.0.0.1", server.port, username="default", password="pw"), 2.0)
        bare = ask(RedisTarget("127.0.0.1", server.port), 2.0)
    assert answer.ok and answer.connected and not answer.tls
    assert answer.user == "default" and answer.role == "master" and answer.ping_ms is not None
    assert answer.flavour is (Flavour.VALKEY if binary.label.startswith("valkey") else Flavour.REDIS)
    assert answer.version and binary.label.split("-")[1] in answer.version
    assert bare.failure is Failure.NOAUTH and isinstance(bare.error, NoAuthError)


def test_large_bulk_and_pipelines_cross_many_reads(binary, tmp_path):
    value = bytes(range(256)) * 1024  # 256 KiB, every byte value, several 64 KiB reads
    with real_server(binary.path, tmp_path / "s") as server, \
            open_store(RedisTarget("127.0.0.1", server.port, db=3), 5.0) as conn:
        assert conn.command("SET", "big", value) == b"OK"
        assert conn.command("GET", "big") == value
        replies = conn.pipeline(("PING",), ("NOSUCHCOMMAND",), ("GET", "missing"), ("STRLEN", "big"))
        assert replies[0] == b"PONG" and isinstance(replies[1], UnknownCommandError)
        assert replies[2:] == [None, len(value)]
        assert conn.command("CLIENT", "INFO").find(b"db=3") > 0  # type: ignore[union-attr]


def test_nothing_listening_is_refused_at_once():
    port = free_port()
    assert not ping(RedisTarget("127.0.0.1", port), 0.5)
    assert (ping_error(RedisTarget("127.0.0.1", port), 0.5) or "").startswith("ConnectionRefusedError")
    answer = ask(RedisTarget("127.0.0.1", port), 0.5)
    assert answer.failure is Failure.REFUSED and not answer.connected
