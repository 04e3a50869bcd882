"""The envelope redacts every secret except the one a command exists to print (a new API key)."""

from __future__ import annotations

from cmem_ops.redaction import Revealed
from cmem_ops.result import build_envelope

KEY = "cmem_" + "ab12" * 12


def test_a_revealed_key_survives_and_every_other_secret_is_redacted():
    data = {"key": Revealed(KEY), "echo": KEY, "url": "redis://default:pw@127.0.0.1:1/0"}
    envelope = build_envelope("server.api-key.create", True, data)
    assert envelope["data"]["key"] == KEY and type(envelope["data"]["key"]) is str
    assert envelope["data"]["echo"] == "cmem_***"
    assert "pw@" not in envelope["data"]["url"]
