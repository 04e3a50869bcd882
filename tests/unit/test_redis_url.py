import pytest

from cmem_ops.errors import ConfigError
from cmem_ops.redaction import redact_text, redact_url
from cmem_ops.redis_url import RedisTarget, parse_redis_url


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://127.0.0.1:6379", RedisTarget("127.0.0.1", 6379)),
    ("redis://localhost", RedisTarget("localhost", 6379)),
    ("redis://:secret@127.0.0.1:24000/0", RedisTarget("127.0.0.1", 24000, password="secret")),
    ("redis://default:secret@h:1/5", RedisTarget("h", 1, db=5, username="default", password="secret")),
    ("rediss://h:6380", RedisTarget("h", 6380, tls=True)),
    ("redis://[::1]:7000/2", RedisTarget("::1", 7000, db=2)),
])
def test_parse(url, expected):
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("http://h:1", "only redis:// and rediss://"),
    ("redis://h:99999", "malformed"),
    ("redis://h:1/abc", "not a number"),
    ("redis://", "no host"),
    ("redis://h:0", "port 0; a port is 1-65535"),
    ("redis://:pw@h:0/0", "port 0"),
])
def test_parse_errors_name_the_problem_without_the_password(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_redis_url(url)


def test_error_message_redacts_password():
    with pytest.raises(ConfigError) as err:
        parse_redis_url("redis://:hunter2@h:1/x")
    assert "hunter2" not in err.value.message


def test_round_trip_and_redaction():
    t = parse_redis_url("redis://:p@ss@127.0.0.1:24000/0")
    assert t.password == "p@ss"
    assert parse_redis_url(t.url()) == t
    assert t.url(redact=True) == "redis://:***@127.0.0.1:24000/0"
    assert redact_url("see redis://u:pw@h:1/0 now") == "see redis://u:***@h:1/0 now"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


def test_one_redact_url_hides_awkward_passwords_and_keys():
    assert redact_url("redis://:p/w@ss@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact_url("https://mirror/releases?key=cmem_0123456789abcdef") == "https://mirror/releases?key=cmem_***"
    assert redact_url("file:///srv/mirror") == "file:///srv/mirror"
    # free text keeps using redact_text, and both agree on plain URLs
    url = "postgres://cmem:secret@127.0.0.1:5432/db"
    assert redact_url(url) == redact_text(url) == "postgres://cmem:***@127.0.0.1:5432/db"
