"""`cmem-ops matrix [plan|workflow]`: the compatibility matrix across Redis 6.2/7/8, Valkey 8/9 and Dragonfly."""

from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..matrix.provision import Mode, Provision
    from ..matrix.result import MatrixReport
    from ..matrix.targets import Target


def _targets(names: str | None) -> tuple[Target, ...]:
    from ..matrix.targets import load_targets, select_targets

    return select_targets(load_targets(), None if names is None else names.split(","))


def _mode(native_only: bool, docker_only: bool) -> Mode:
    from ..matrix.provision import Mode

    if native_only and docker_only:
        raise UsageError("--native-only and --docker-only exclude each other",
                         hint="pass one of them, or neither (native first, then Docker)")
    return Mode.NATIVE if native_only else Mode.DOCKER if docker_only else Mode.AUTO


def run(args: Namespace) -> int:
    """Run the matrix; progress on stderr, the report on stdout (and in --report PATH)."""
    from ..context import build_context
    from ..matrix.report import write_report
    from ..matrix.run import MatrixOptions, run_matrix
    from ..render.matrix import format_report

    def action() -> MatrixReport:
        chosen = _targets(args.targets)
        options = MatrixOptions(mode=_mode(args.native_only, args.docker_only), strict=args.strict,
                                probe_timeout=args.timeout, interop=not args.no_interop)
        result = run_matrix(chosen, options, dict(os.environ), build_context().runner,
                            lambda msg: output.say(f"matrix: {msg}"))
        if args.report is not None:
            write_report(result, Path(args.report))
            output.say(f"matrix: report written to {args.report}")
        return result

    return output.run("matrix", args.as_json, action, format_report, lambda r: r.exit_code, lambda r: r.to_data())


def plan(args: Namespace) -> int:
    """Where each target's server would come from (or why it would be skipped); starts nothing."""
    from ..context import build_context
    from ..matrix.provision import provision
    from ..render.matrix import format_plan

    def action() -> list[Provision]:
        ctx = build_context()
        return provision(ctx.paths, ctx.runner, _targets(args.targets), _mode(args.native_only, args.docker_only),
                         dict(os.environ))

    def data(plans: list[Provision]) -> list[dict[str, object]]:
        return [{"target": p.target.name, "kind": p.kind, "source": p.source, "location": p.location,
                 "reason": p.reason, "hint": p.hint, "pull": p.pull} for p in plans]

    return output.run("matrix.plan", args.as_json, action, format_plan, lambda _: ExitCode.OK, data)


def workflow(args: Namespace) -> int:
    """Print or write the GitHub Actions workflow; with --check, exit 1 when the file is out of date."""
    from ..matrix.targets import load_targets
    from ..matrix.workflow import render_workflow

    if args.check and args.output is None:
        raise UsageError("--check needs --output",
                         hint="cmem-ops matrix workflow --check -o ci/matrix/github-actions.yml")
    text = render_workflow(load_targets())
    if args.output is None:
        print(text, end="")
        return 0
    out = Path(args.output)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            output.say(f"{out} is out of date; regenerate it: cmem-ops matrix workflow -o {out}")
            return int(ExitCode.FAILED)
        output.say(f"{out} is up to date")
        return 0
    out.write_text(text, encoding="utf-8")
    output.say(f"wrote {out}")
    return 0
