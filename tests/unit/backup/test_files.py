"""Filesystem steps fail as OpsError naming both paths (real files under tmp_path; no root needed)."""

from __future__ import annotations

import pytest

from cmem_ops.backup.files import copy_file, copy_tree, move, private_temp_dir
from cmem_ops.errors import OpsError


def test_a_missing_source_names_both_paths(tmp_path):
    with pytest.raises(OpsError) as err:
        copy_file(tmp_path / "nope.rdb", tmp_path / "out.rdb")
    assert str(tmp_path / "nope.rdb") in err.value.message and str(tmp_path / "out.rdb") in err.value.message
    assert "df -h" in err.value.hint


def test_copy_tree_onto_an_existing_dir_and_move(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("x")
    (tmp_path / "b").mkdir()
    with pytest.raises(OpsError, match="cannot copy"):
        copy_tree(tmp_path / "a", tmp_path / "b")
    move(tmp_path / "a", tmp_path / "c")
    assert (tmp_path / "c" / "f").read_text() == "x"
    with pytest.raises(OpsError, match="cannot move"):
        move(tmp_path / "a", tmp_path / "d")


def test_private_temp_dir(tmp_path):
    made = private_temp_dir(tmp_path / "new", "x-")
    assert made.parent == tmp_path / "new" and oct(made.stat().st_mode)[-3:] == "700"
    (tmp_path / "file").write_text("")
    with pytest.raises(OpsError, match="cannot create a directory"):
        private_temp_dir(tmp_path / "file", "x-")
