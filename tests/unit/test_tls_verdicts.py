"""Pure TLS verdicts: the handshake time against claude-mem's connect timeout, certificate names."""

from __future__ import annotations

from cmem_ops.probes.base import Status
from cmem_ops.probes.tls import format_names, judge_connect_time
from cmem_ops.tlstrust import build_node_context, extra_ca_file


def test_connect_time_against_the_1000_ms_timeout():
    assert judge_connect_time(12)[0] is Status.OK
    assert judge_connect_time(500)[0] is Status.OK
    assert judge_connect_time(501)[0] is Status.WARN
    status, text = judge_connect_time(1000.5)
    assert status is Status.FAIL and "will not connect" in text


def test_names_prefer_subject_alt_names_then_common_name():
    cert = {"subject": ((("commonName", "cn.example"),),),
            "subjectAltName": (("DNS", "a.example"), ("IP Address", "10.0.0.1"), ("email", "x@y"))}
    assert format_names(cert) == ["a.example", "10.0.0.1"]
    assert format_names({"subject": ((("commonName", "cn.example"),),)}) == ["cn.example"]


def test_an_unreadable_extra_ca_is_ignored_like_node_does(tmp_path):
    ctx, problem = build_node_context(str(tmp_path / "missing.pem"))
    assert ctx.check_hostname and problem and "cannot be loaded" in problem


def test_extra_ca_comes_from_the_environment_then_settings_json(tmp_path):
    data = tmp_path / "cm"
    data.mkdir()
    (data / "settings.json").write_text('{"NODE_EXTRA_CA_CERTS": "/etc/ca.pem"}')
    env = {"HOME": str(tmp_path), "CLAUDE_MEM_DATA_DIR": str(data)}
    assert extra_ca_file(env) == "/etc/ca.pem"
    assert extra_ca_file(env | {"NODE_EXTRA_CA_CERTS": "/env/ca.pem"}) == "/env/ca.pem"
    (data / "settings.json").write_text("{not json")
    assert extra_ca_file(env) is None
