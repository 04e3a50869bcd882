"""Reply -> diagnosis, on error replies captured from real servers (the fault suite drives the live cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.probes.base import Status
from cmem_ops.probes.redis_conn import StoreHints, diagnose, persistence_fix
from cmem_ops.redis_url import RedisTarget
from cmem_ops.resp import parse_replies
from cmem_ops.store_answer import Answer, Failure, failure_of
from cmem_ops.store_client import ConnectTimeout, PlainToTlsError, ReplyTimeout, TlsToPlainError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "resp"
TARGET = RedisTarget("127.0.0.1", 6390, db=2, username="app", password="pw")
HINTS = StoreHints.for_mode("external", TARGET)
MISLEADING = "Redis-compatible (rediss?)"


def captured_error(label: str, case: str) -> BaseException:
    reply = parse_replies((FIXTURES / label / f"{case}.bin").read_bytes())[-1]
    assert isinstance(reply, BaseException)
    return reply


@pytest.mark.parametrize(("case", "failure"), [
    ("noauth", Failure.NOAUTH), ("wrongpass", Failure.WRONGPASS), ("no-password-set", Failure.NO_PASSWORD_SET),
    ("noperm", Failure.NOPERM), ("misconf", Failure.MISCONF), ("loading", Failure.LOADING), ("busy", Failure.BUSY),
    ("db-range", Failure.DB_RANGE), ("readonly", Failure.READONLY), ("moved", Failure.ERROR),
])
def test_failure_of_captured_replies(case, failure):
    assert failure_of(captured_error("valkey-9.1", case)) is failure


@pytest.mark.parametrize(("exc", "failure"), [
    (ConnectionRefusedError(111, "Connection refused"), Failure.REFUSED),
    (ConnectTimeout("x"), Failure.CONNECT_TIMEOUT), (ReplyTimeout("x"), Failure.REPLY_TIMEOUT),
    (TlsToPlainError("x"), Failure.TLS_TO_PLAIN), (PlainToTlsError("x"), Failure.PLAIN_TO_TLS),
    (ConnectionResetError(104, "reset"), Failure.CLOSED), (OSError(113, "No route to host"), Failure.UNREACHABLE),
])
def test_failure_of_socket_errors(exc, failure):
    assert failure_of(exc) is failure


@pytest.mark.parametrize("label", ["valkey-9.1", "valkey-8.1", "redis-8.2", "redis-7.0"])
def test_loading_from_captured_bytes_is_a_warn_saying_to_wait(label):
    err = captured_error(label, "loading")
    answer = Answer(TARGET, connected=True, failure=failure_of(err), error=err,
                    info={"loading_loaded_perc": "42.00", "loading_eta_seconds": "3"})
    d = diagnose(answer, HINTS, 2.0)
    assert d.status is Status.WARN and d.hint == "wait, then: cmem-ops doctor"
    assert d.summary == "the store is loading its data into memory (42.00% loaded, about 3s left) (LOADING)"


@pytest.mark.parametrize("label", ["valkey-9.1", "redis-6.2"])
def test_noperm_without_a_user_in_the_reply_uses_the_connection_user(label):
    err = captured_error(label, "noperm")
    d = diagnose(Answer(TARGET, connected=True, user="limited", failure=Failure.NOPERM, error=err), HINTS, 2.0)
    assert d.summary == "ACL user 'limited' may not run PING (NOPERM)"
    assert d.hint.startswith("ACL SETUSER limited +ping")


def test_misconf_from_captured_bytes_names_the_dir_or_why_not():
    err = captured_error("redis-7.0", "misconf-ping")
    answer = Answer(TARGET, connected=True, failure=Failure.MISCONF, error=err, config={"dir": "/srv/valkey"})
    assert diagnose(answer, HINTS, 2.0).hint.startswith("free disk space on /srv/valkey (df -h /srv/valkey)")
    assert "NOPERM" in persistence_fix({"dir!": "NOPERM no CONFIG"}, HINTS)
    assert "path is unknown" in persistence_fix({}, HINTS)


def test_db_range_without_a_readable_count_says_so():
    err = captured_error("redis-6.2", "db-range")
    d = diagnose(Answer(TARGET, connected=True, failure=Failure.DB_RANGE, error=err), HINTS, 2.0)
    assert d.summary == "database 2 does not exist on 127.0.0.1:6390: its `databases` count could not be read"


def test_no_message_uses_the_old_misleading_hint():
    for failure in Failure:
        d = diagnose(Answer(TARGET, connected=True, failure=failure, error=RuntimeError("x")), HINTS, 1.84954)
        assert MISLEADING not in d.summary + d.detail + d.hint
        assert "1.84954" not in d.summary and d.hint and d.status in (Status.FAIL, Status.WARN)
