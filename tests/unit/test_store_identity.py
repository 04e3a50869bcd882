"""Pure parts of the store's identity and stopping: /proc parsers, the NOSAVE verdict, OS error messages."""

from __future__ import annotations

import errno
from pathlib import Path

from cmem_ops.errors import FileError, file_error
from cmem_ops.resp import parse_info
from cmem_ops.store.config import StoreConfig, parse_config_value, render_config
from cmem_ops.store.identity import parse_listeners, parse_token
from cmem_ops.store.shutdown import judge_nosave

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store"


def test_listeners_are_read_from_captured_proc_net_tcp_and_tcp6():
    v4 = parse_listeners((FIXTURES / "proc-net-tcp.txt").read_text())
    assert v4[128710] == 0xBFF5 and v4[189962] == 0x9BC5
    v6 = parse_listeners((FIXTURES / "proc-net-tcp6.txt").read_text())
    assert v6 == {128711: 0xBFF5, 187355: 0x6BF1}


def test_only_listening_rows_count():
    text = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 777 1\n")
    assert parse_listeners(text) == {}


def test_the_token_is_read_from_the_process_title():
    assert parse_token("valkey-server 127.0.0.1:23456 cmem-ops-store:0a1b2c3d4e5f6071") == "0a1b2c3d4e5f6071"
    assert parse_token("/usr/bin/redis-server *:6379") is None


def test_the_password_is_read_back_from_the_rendered_config(tmp_path):
    cfg = StoreConfig(port=23456, password="abc123", data_dir=tmp_path, log_file=tmp_path / "l", token="t")
    assert parse_config_value(render_config(cfg), "requirepass") == "abc123"
    assert parse_config_value(render_config(cfg), "port") == "23456"
    assert parse_config_value("port 1\n", "requirepass") is None


def test_nosave_is_safe_only_when_the_aof_buffer_is_empty():
    healthy = parse_info((FIXTURES / "valkey-9.1-info-persistence-ok.txt").read_text())
    assert judge_nosave(healthy).safe
    full = parse_info((FIXTURES / "valkey-9.1-info-persistence-disk-full.txt").read_text())
    verdict = judge_nosave(full)
    assert not verdict.safe and "229 bytes" in verdict.why and "aof_last_write_status:err" in verdict.why
    assert not judge_nosave({"aof_enabled": "0"}).safe
    assert not judge_nosave({"aof_enabled": "1"}).safe  # no aof_buffer_length: cannot prove it


def test_os_errors_name_the_path_the_errno_and_the_fix():
    err = file_error(PermissionError(errno.EPERM, "Operation not permitted", "/d/redis.conf"), "write")
    assert isinstance(err, FileError) and int(err.exit_code) == 1
    assert err.message == "cannot write /d/redis.conf: Operation not permitted (EPERM)"
    assert "chattr -i /d/redis.conf" in (err.hint or "")
    full = file_error(OSError(errno.ENOSPC, "No space left on device"), "write", "/d/x")
    assert "(ENOSPC)" in full.message and "df -h /d" in (full.hint or "")
    assert "mv /d/c /d/c.bak" in (file_error(IsADirectoryError(errno.EISDIR, "Is a directory", "/d/c"), "write").hint
                                  or "")


def test_a_failed_save_is_called_a_full_disk_only_when_the_disk_is_full():
    from cmem_ops.store.shutdown import describe_cause

    assert "free disk space on /d" in describe_cause(Path("/d"), 0)
    other = describe_cause(Path("/d"), 80 * 1024**3)
    assert "free disk space" not in other and "cmem-ops store logs" in other
