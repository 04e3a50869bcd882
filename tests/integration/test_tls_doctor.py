"""rediss:// judged as claude-mem's Node judges it, against Debian's TLS-capable redis-server and a test CA."""

from __future__ import annotations

import json
import shutil

import pytest

from tests import tls_support as tsl
from tests import topology_support as ts
from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration


def doctor(env, *args, timeout=60):
    out = run_cli(env, "doctor", "--json", "--only", "store", *args, timeout=timeout)
    return out, {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}


@pytest.fixture
def ca(tmp_path):
    return tsl.make_ca(tmp_path / "ca")


def test_private_ca_fails_until_node_extra_ca_certs_is_given_then_the_node_smoke_passes(tmp_path, ca):
    with tsl.tls_server(tmp_path / "tls", ca, "localhost", "127.0.0.1") as server:
        url = f"rediss://localhost:{server.port}/0"
        env = user_env(tmp_path / "u", CLAUDE_MEM_REDIS_URL=url)
        out, results = doctor(env, "--no-smoke")
        tls = results["tls"]
        assert out.returncode != 0 and tls["status"] == "fail", tls
        assert "not trusted by Node" in tls["summary"] and "NODE_EXTRA_CA_CERTS=" in tls["hint"]
        assert "ping" not in results  # the TLS verdict explains the failure
        assert run_cli(env, "status").returncode != 0
        # the fix, in the environment: every check passes, and claude-mem's client (Node bullmq) runs over TLS
        env["NODE_EXTRA_CA_CERTS"] = str(ca.pem)
        smoke = [] if shutil.which("node") else ["--no-smoke"]
        out, results = doctor(env, *smoke, timeout=240)
        assert results["tls"]["status"] == "ok", results["tls"]
        assert "TLSv1.3" in results["tls"]["summary"] and results["tls"]["data"]["connect_ms"] < 500
        assert results["topology"]["status"] == "ok"
        if smoke == []:
            assert results["bullmq"]["status"] == "ok", results["bullmq"]
            assert results["bullmq"]["data"]["client"] == "node-bullmq"
        assert out.returncode == 0, [(r["name"], r["summary"]) for r in results.values() if r["status"] != "ok"]
        assert run_cli(env, "status").returncode == 0
        # the same fix in settings.json (cmem-ops passes it through to the server and workers)
        env.pop("NODE_EXTRA_CA_CERTS")
        settings = tmp_path / "u" / "home" / ".claude-mem" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({"NODE_EXTRA_CA_CERTS": str(ca.pem)}))
        out, results = doctor(env, "--no-smoke")
        assert results["tls"]["status"] == "ok" and results["ping"]["status"] == "ok"


def test_hostname_mismatch_names_both_names(tmp_path, ca):
    with tsl.tls_server(tmp_path / "tls", ca, "cache.example.internal") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://localhost:{server.port}/0",
                       NODE_EXTRA_CA_CERTS=str(ca.pem))
        out, results = doctor(env, "--no-smoke")
        tls = results["tls"]
        assert out.returncode != 0 and tls["status"] == "fail"
        assert "the URL names localhost" in tls["summary"] and "cache.example.internal" in tls["summary"]
        assert "rediss://cache.example.internal:" in tls["hint"]


def test_self_signed_certificate(tmp_path, ca):
    with tsl.self_signed_tls_server(tmp_path / "self", ca) as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://127.0.0.1:{server.port}/0")
        _out, results = doctor(env, "--no-smoke")
        assert results["tls"]["status"] == "fail" and "self-signed" in results["tls"]["summary"]
        assert "NODE_EXTRA_CA_CERTS=" in results["tls"]["hint"]


def test_tls_to_a_plain_server_and_plain_to_a_tls_server(tmp_path, ca):
    with ts.standalone(tsl.tls_binary(), tmp_path / "plain") as plain:
        env = user_env(tmp_path / "a", CLAUDE_MEM_REDIS_URL=f"rediss://127.0.0.1:{plain.port}/0")
        out, results = doctor(env, "--no-smoke")
        assert results["tls"]["status"] == "fail" and "speaks plain TCP, not TLS" in results["tls"]["summary"]
        assert results["tls"]["hint"].startswith(f"CLAUDE_MEM_REDIS_URL=redis://127.0.0.1:{plain.port}/0")
    with tsl.tls_server(tmp_path / "tls", ca) as server:
        env = user_env(tmp_path / "b", CLAUDE_MEM_REDIS_URL=f"redis://127.0.0.1:{server.port}/0")
        out, results = doctor(env, "--no-smoke")
        ping = results["ping"]
        assert out.returncode != 0 and ping["status"] == "fail" and "speaks TLS" in ping["summary"], ping
        assert f"CLAUDE_MEM_REDIS_URL=rediss://127.0.0.1:{server.port}/0" in ping["hint"]


@pytest.mark.parametrize(("delay", "status"), [(0.7, "warn"), (1.3, "fail")])
def test_slow_handshake_against_claude_mems_1000_ms_connect_timeout(tmp_path, ca, delay, status):
    with tsl.tls_server(tmp_path / "tls", ca, "localhost") as server, tsl.delaying_proxy(server.port, delay) as port:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://localhost:{port}/0",
                       NODE_EXTRA_CA_CERTS=str(ca.pem))
        _out, results = doctor(env, "--no-smoke", "--timeout", "20")
        tls = results["tls"]
        assert tls["status"] == status, tls
        assert tls["data"]["connect_ms"] >= delay * 1000 and "1000 ms connect timeout" in tls["summary"]


def test_expired_certificate(tmp_path, ca):
    import datetime

    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    dates = {"not_before": past, "not_after": past + datetime.timedelta(days=30)}
    with tsl.tls_server(tmp_path / "tls", ca, "localhost", dates=dates) as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://localhost:{server.port}/0",
                       NODE_EXTRA_CA_CERTS=str(ca.pem))
        out, results = doctor(env, "--no-smoke")
        tls = results["tls"]
        assert out.returncode != 0 and tls["status"] == "fail" and "is expired" in tls["summary"], tls
        assert "2020" in tls["summary"] and "renew" in tls["hint"]


def test_server_demanding_a_client_certificate(tmp_path, ca):
    with tsl.tls_server(tmp_path / "tls", ca, "localhost", extra=("--tls-auth-clients", "yes")) as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://localhost:{server.port}/0",
                       NODE_EXTRA_CA_CERTS=str(ca.pem))
        out, results = doctor(env, "--no-smoke")
        tls = results["tls"]
        assert out.returncode != 0 and tls["status"] == "fail", tls
        assert "client certificate" in tls["summary"] and "tls-auth-clients" in tls["hint"]


def test_python_smoke_over_tls_uses_the_same_extra_ca(tmp_path, ca):
    pytest.importorskip("bullmq", reason="the Python bullmq port is not installed")
    with tsl.tls_server(tmp_path / "tls", ca, "localhost") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"rediss://localhost:{server.port}/0",
                       NODE_EXTRA_CA_CERTS=str(ca.pem))
        _out, results = doctor(env, "--client", "python")
        assert results["bullmq"]["status"] == "ok", results["bullmq"]
        assert results["bullmq"]["data"]["client"] != "node-bullmq"
