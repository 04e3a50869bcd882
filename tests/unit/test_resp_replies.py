"""The RESP parser against bytes captured from real Valkey/Redis servers (tests/fixtures/resp/, capture.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.resp import (
    AskError,
    BusyError,
    CrossSlotError,
    DbRangeError,
    ExecAbortError,
    LoadingError,
    MisconfError,
    MovedError,
    NoAuthError,
    NoPasswordSetError,
    NoPermError,
    ReadOnlyError,
    RespError,
    RespParser,
    RespProtocolError,
    UnknownCommandError,
    WrongPassError,
    classify_error,
    parse_replies,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "resp"
CAPTURED = sorted(p for p in FIXTURES.glob("*/*.bin"))
BIG = b"0123456789abcdef" * 4480

# case -> the replies every server sent (error replies by class; checked further below)
EXPECTED: dict[str, list[object]] = {
    "pong": [b"PONG"],
    "unknown-command": [UnknownCommandError],
    "nil-bulk": [None],
    "nil-array": [None],
    "integers": [0, -42],
    "nested-array": [[1, [2, [3, b"x"]], [], b"OK"]],
    "scan": [b"OK", [b"0", [b"k1"]]],
    "large-bulk": [b"OK", BIG],
    "db-range": [DbRangeError],
    "no-password-set": [NoPasswordSetError],
    "execabort": [b"OK", UnknownCommandError, ExecAbortError],
    "noauth": [NoAuthError],
    "wrongpass": [WrongPassError],
    "wrongpass-user": [WrongPassError],
    "noperm": [b"OK", NoPermError],
    "readonly": [ReadOnlyError],
    "misconf": [MisconfError],
    "misconf-ping": [MisconfError],
    "busy": [BusyError],
    "loading": [LoadingError],
    "moved": [MovedError],
    "ask": [AskError],
    "crossslot": [CrossSlotError],
}


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _matches(replies: list[object], expected: list[object]) -> bool:
    if len(replies) != len(expected):
        return False
    for got, want in zip(replies, expected, strict=True):
        if isinstance(want, type):
            if type(got) is not want:
                return False
        elif got != want:
            return False
    return True


def test_every_case_was_captured_from_several_servers():
    cases: dict[str, set[str]] = {}
    for path in CAPTURED:
        cases.setdefault(path.stem, set()).add(path.parent.name)
    assert set(cases) == set(EXPECTED)
    assert all(len(servers) >= 4 for servers in cases.values()), cases


@pytest.mark.parametrize("path", CAPTURED, ids=_id)
def test_captured_replies_parse_whole(path: Path):
    assert _matches(parse_replies(path.read_bytes()), EXPECTED[path.stem])


@pytest.mark.parametrize("path", CAPTURED, ids=_id)
def test_replies_split_at_every_byte_boundary(path: Path):
    """Fed one byte at a time (every boundary at once), the parser yields the same replies, none early."""
    data = path.read_bytes()
    whole = parse_replies(data)
    parser = RespParser()
    got: list[object] = []
    for i in range(len(data)):
        parser.feed(data[i:i + 1])
        while (reply := parser.next_reply()) is not RespParser.NEED_MORE:
            got.append(reply)
    assert parser.buffered == 0
    assert [repr(r) for r in got] == [repr(r) for r in whole]


@pytest.mark.parametrize("path", [p for p in CAPTURED if p.stat().st_size < 4096], ids=_id)
def test_replies_split_in_two_at_each_boundary(path: Path):
    data = path.read_bytes()
    whole = [repr(r) for r in parse_replies(data)]
    for cut in range(len(data) + 1):
        parser = RespParser()
        parser.feed(data[:cut])
        got = []
        while (reply := parser.next_reply()) is not RespParser.NEED_MORE:
            got.append(repr(reply))
        parser.feed(data[cut:])
        while (reply := parser.next_reply()) is not RespParser.NEED_MORE:
            got.append(repr(reply))
        assert got == whole, cut


def test_large_bulk_is_larger_than_one_read():
    for path in FIXTURES.glob("*/large-bulk.bin"):
        assert path.stat().st_size > 65536


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/noperm.bin")), ids=_id)
def test_noperm_names_the_command_and_the_user_when_the_server_does(path: Path):
    err = parse_replies(path.read_bytes())[1]
    assert isinstance(err, NoPermError) and err.command == "ping"
    # Redis 6.2 says "this user has no permissions"; 7+ and Valkey name the user.
    assert err.user == ("limited" if "User limited" in err.message else None)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/moved.bin")) + sorted(FIXTURES.glob("*/ask.bin")), ids=_id)
def test_redirects_carry_slot_host_and_port(path: Path):
    err = parse_replies(path.read_bytes())[0]
    assert isinstance(err, MovedError | AskError)
    assert err.slot == (12182 if path.stem == "moved" else 5061)
    assert err.host == "127.0.0.1" and isinstance(err.port, int) and err.port > 0


def test_busykey_is_not_busy_and_codes_are_first_words():
    assert type(classify_error("BUSYKEY Target key name already exists.")) is RespError
    assert classify_error("ERR invalid password").__class__ is WrongPassError  # Redis < 6
    assert classify_error("WRONGTYPE Operation against a key holding the wrong kind of value").code == "WRONGTYPE"


@pytest.mark.parametrize("data", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\x15\x03\x01\x00\x02\x02\x46",
                                  b"$abc\r\n", b"$3\r\nabcXY", b"SSH-2.0-OpenSSH_9.2\r\n"])
def test_bytes_that_are_not_resp_are_named(data: bytes):
    with pytest.raises(RespProtocolError) as err:
        parse_replies(data)
    assert err.value.head


def test_a_header_line_that_never_ends_is_not_waited_for_forever():
    parser = RespParser()
    parser.feed(b"+" + b"x" * 70000)
    with pytest.raises(RespProtocolError):
        parser.next_reply()


def test_trailing_partial_reply_is_reported():
    with pytest.raises(ValueError, match="incomplete"):
        parse_replies(b"+OK\r\n*2\r\n:1\r\n")
