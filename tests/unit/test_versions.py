from pathlib import Path

from cmem_ops.pgcluster.binaries import _major_key
from cmem_ops.versions import at_least, parse_version, version_key


def test_release_order_puts_pre_releases_before_their_release():
    texts = ["13.25.3", "13.25.3-beta.1", "v13.25.10", "13.9.0", "13.25.3-rc.2", "not-a-version"]
    assert sorted(texts, key=version_key) == ["not-a-version", "13.9.0", "13.25.3-beta.1", "13.25.3-rc.2",
                                              "13.25.3", "v13.25.10"]
    assert parse_version("nonsense") is None and str(parse_version("v20.20.2")) == "20.20.2"


def test_at_least_is_numeric_and_refuses_what_does_not_parse():
    assert at_least("7.0.15", "6.2") and at_least("6.2.0", "6.2") and not at_least("6.0.20", "6.2")
    assert at_least("10.0.0", "9.1") and not at_least("unknown", "6.2")


def test_postgres_install_dirs_sort_by_their_version():
    dirs = [Path("/usr/lib/postgresql/9.6/bin"), Path("/usr/lib/postgresql/16/bin"),
            Path("/usr/lib/postgresql/17/bin"), Path("/opt/homebrew/opt/postgresql@15/bin")]
    assert [p.parent.name for p in sorted(dirs, key=_major_key, reverse=True)] == \
        ["17", "16", "postgresql@15", "9.6"]
