"""The docker stack's store probes as pure text: the Lua script and the smoke container's script."""

from __future__ import annotations

from cmem_ops.probes.docker_stack import LUA_SCRIPT, build_smoke_script


def test_the_lua_script_reads_the_password_inside_the_container_and_prints_three_replies():
    assert LUA_SCRIPT.count('REDISCLI_AUTH="$(cat /run/secrets/valkey-password)"') == 3
    assert "EVAL 'return 1' 0" in LUA_SCRIPT and "SCRIPT LOAD 'return 2'" in LUA_SCRIPT
    assert LUA_SCRIPT.endswith('echo "$a|$s|$b"')


def test_the_smoke_script_takes_the_url_from_the_secret_file_not_argv():
    script = build_smoke_script("cmemops_smoke_ab12", "cmemops_smoke", 8.0)
    assert script.startswith('. /run/secrets/claude-mem.env && CMEM_OPS_SMOKE_URL="$CLAUDE_MEM_REDIS_URL" && '
                             "export CMEM_OPS_SMOKE_URL && cd /cmem-ops-smoke && exec /opt/bun/bun ")
    assert script.endswith("/cmem-ops-smoke/smoke.mjs --prefix cmemops_smoke_ab12 --mode roundtrip "
                           "--queue cmemops_smoke --timeout-ms 8000")
    assert "redis://" not in script
