import datetime as dt

from cmem_ops.logs import files_since, tail_lines
from cmem_ops.paths import Paths


def test_tail_reads_across_day_boundaries(tmp_path):
    paths = Paths(tmp_path)
    paths.logs_dir.mkdir()
    paths.log_file("redis", dt.date(2026, 11, 22)).write_text("a\nb\nc\n")
    paths.log_file("redis", dt.date(2026, 11, 23)).write_text("d\ne\n")
    paths.log_file("server", dt.date(2026, 11, 23)).write_text("other\n")
    (paths.logs_dir / "redis-notadate.log").write_text("ignored\n")
    files = paths.log_files("redis")
    assert [f.name for f in files] == ["redis-2026-11-22.log", "redis-2026-11-23.log"]
    assert tail_lines(files, 3) == ["c", "d", "e"]
    assert tail_lines(files_since(files, dt.date(2026, 11, 23)), 10) == ["d", "e"]
