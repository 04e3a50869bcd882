"""The `cmem-ops` command line: one argparse parser over a declarative command table.

Why argparse and not typer: the start-up targets (`cmem-ops --version` and any `--help` within
10x `python -c pass`, `status --json` within 3x a raw-socket probe) cannot be met with typer:
`import typer` alone is ~80 ms against ~14 ms for `python -c pass`. argparse is in the stdlib
and costs a few ms; it is imported only after the command's words are known.

    main.py       entry point: parse, import the one handler, run it; every error rendered once
    commands.py   THE command table: Command(words, help, handler, options) and Group(words, help)
    spec.py       Option/Command/Group shapes and shared options (JSON, timeout(), integer(), seconds())
    parser.py     argv -> (Command, Namespace); builds only the chosen command's parser; group help
    output.py     printing: text lines, the JSON envelope, report_error (the one error renderer)
    internal.py   an unexpected exception -> "internal error" + traceback in a log file
    <module>.py   handlers, one module per group: `def handler(args: Namespace) -> int`

Adding a command (three steps):
1. Write the handler in cmem_ops/cli/<module>.py. Import services INSIDE the function (the
   module is imported only when its command runs, but keep its top level to stdlib + cli/):

       def show(args: Namespace) -> int:
           from ..context import build_context
           from ..lifecycle import thing as thing_service
           from ..render.thing import format_thing

           return output.run("thing.show", args.as_json,
                             lambda: thing_service.show(build_context(), timeout=args.timeout),
                             format_thing)      # render: result -> list of lines (str or (str, Status))

2. Append to COMMANDS in commands.py (and a Group to GROUPS if `thing` is a new group):

       Command(("thing", "show"), "One line of help.", "cmem_ops.cli.thing:show",
               (JSON, timeout(2.0, 0.1, "Seconds to wait for the thing."))),

3. Add a schema: cmem_ops/schemas/thing.show.json (the envelope's `data`), and the command line
   to CONTRACT in tests/integration/test_json_contract.py.

Errors: raise an OpsError (cmem_ops/errors.py) from the service; main() renders it (message +
hint on stderr, or one error envelope on stdout when `--json` is anywhere on the line). Never
print an error yourself and never call sys.exit. Defaults owned by a service are None in the
table and filled in by the handler, so the table never imports a service.
"""
