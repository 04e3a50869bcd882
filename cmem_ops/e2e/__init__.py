"""`cmem-ops e2e`: the restart and revoke-key script, against the real stack in a private data dir.

    fake_llm.py   TEST DOUBLE: an OpenAI-compatible chat/completions server on loopback (no internet here)
    world.py      what the steps share: the private environment, the CLI as a user runs it, the API,
                  and read-only views of Postgres and BullMQ for counting
    steps.py      the steps, each returning a detail line or raising StepFailed
    script.py     runs them in order (PASS/FAIL/SKIP per step), always stops the stack, shows the logs
                  of the failing part, removes the private data dir on success
"""
