"""The compatibility matrix: claude-mem's queue store on Redis 6.2/7/8, Valkey 8/9 and Dragonfly.

    targets.json   the definition (package data): name, flavour, version, native source, image
    targets.py     Target, load_targets, select_targets (pure)
    provision.py   where each target's server comes from: $CMEM_MATRIX_<T>_URL, a native binary
                   (store.binaries discovery), a Docker image, or SKIP with the reason
    servers/       start a target's server (native / docker compose / service) and stop only that
    interop.py     Node BullMQ enqueue -> Python process, and back
    run.py         per target: start, doctor store probes, interop, stop; timings (run_matrix)
    result.py      Verdict, TargetResult, MatrixReport, judge, exit_code_for (pure)
    report.py      markdown table and JSON (pure), write_report
    workflow.py    the GitHub Actions workflow generated from the definition (pure)
"""
