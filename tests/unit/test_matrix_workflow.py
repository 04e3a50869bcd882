"""ci/matrix/github-actions.yml is generated from targets.json: regenerate it and compare, so they never drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.matrix.targets import load_targets
from cmem_ops.matrix.workflow import render_job, render_workflow

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "ci" / "matrix" / "github-actions.yml"


def test_the_committed_workflow_is_what_the_definition_generates() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_workflow(load_targets()), (
        "ci/matrix/github-actions.yml is out of date: cmem-ops matrix workflow -o ci/matrix/github-actions.yml")


def test_one_job_per_target_running_the_matrix_against_its_official_image() -> None:
    text = render_workflow(load_targets())
    for target in load_targets():
        job = render_job(target)
        assert f"\n  {target.job_id}:\n" in "\n" + text.split("jobs:\n", 1)[1]
        assert f'image: "{target.image}"' in job
        assert f'{target.url_env}: "redis://127.0.0.1:6379/0"' in job
        assert f"run: cmem-ops matrix --targets {target.name} --strict --report matrix-{target.name}.md" in job
        assert '- "127.0.0.1:6379:6379"' in job


def test_service_options_health_where_the_image_has_a_cli_and_dragonfly_flags() -> None:
    by_name = {t.name: t for t in load_targets()}
    assert '--health-cmd \\"valkey-cli ping\\"' in render_job(by_name["valkey-8.1"])
    assert '--health-cmd \\"redis-cli ping\\"' in render_job(by_name["redis-6.2"])
    dragonfly = render_job(by_name["dragonfly"])
    assert "--health-cmd" not in dragonfly and "--ulimit memlock=-1" in dragonfly
    assert 'DFLY_default_lua_flags: "allow-undeclared-keys"' in dragonfly


def test_the_workflow_is_valid_yaml_with_the_expected_shape() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (the text comparison above still ran)")
    data = yaml.safe_load(render_workflow(load_targets()))
    assert list(data["jobs"]) == [t.job_id for t in load_targets()]
    job = data["jobs"]["redis-7-0"]
    assert job["services"]["store"]["image"] == "redis:7.0"
    assert job["env"] == {"CMEM_MATRIX_REDIS_70_URL": "redis://127.0.0.1:6379/0"}
    assert job["steps"][-2]["run"].startswith("cmem-ops matrix --targets redis-7.0 --strict")
