"""The pure parts of the support bundle: secret names, known-value scrubbing, log grouping."""

from __future__ import annotations

from cmem_ops.lifecycle.support_bundle import log_components, url_secrets
from cmem_ops.redaction import is_secret_name, redact_named, scrub_known


def test_secret_names():
    for name in ("OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "CLAUDE_MEM_POSTGRES_PASSWORD", "GEMINI_APIKEY",
                 "SOME_TOKEN", "KEY", "AWS_SECRET_ACCESS_KEY"):
        assert is_secret_name(name), name
    for name in ("CLAUDE_MEM_REDIS_PORT", "CLAUDE_MEM_QUEUE_REDIS_PREFIX", "KEYSPACE_EVENTS", "CLAUDE_MEM_KEYWORDS"):
        assert not is_secret_name(name), name


def test_redact_named_keeps_the_shape():
    out = redact_named({"OPENROUTER_API_KEY": "sk-or-1", "CLAUDE_MEM_REDIS_URL": "redis://default:pw@h:1/0",
                        "EMPTY_API_KEY": "", "CLAUDE_MEM_REDIS_PORT": "123"})
    assert out == {"OPENROUTER_API_KEY": "***", "CLAUDE_MEM_REDIS_URL": "redis://default:***@h:1/0",
                   "EMPTY_API_KEY": "", "CLAUDE_MEM_REDIS_PORT": "123"}


def test_scrub_known_values_anywhere():
    text = "login with hunter2hunter2 then short ab and cmem_0123456789abcdef"
    assert scrub_known(text, {"hunter2hunter2", "ab"}) == "login with *** then short ab and cmem_***"


def test_url_secrets_raw_and_decoded():
    assert url_secrets("postgres://cmem:s%40cret@h:5432/db") == {"s%40cret", "s@cret"}
    assert url_secrets("redis://h:1") == set()


def test_log_components():
    names = ["redis-2026-12-01.log", "redis-2026-11-30.log", "worker-2026-12-01.log", "claude-mem-2026-12-01.log",
             "notes.txt", "x.log"]
    assert log_components(names) == {"claude-mem": ["claude-mem-2026-12-01.log"],
                                      "redis": ["redis-2026-11-30.log", "redis-2026-12-01.log"],
                                      "worker": ["worker-2026-12-01.log"]}
