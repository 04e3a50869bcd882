"""`cmem-ops e2e`: the restart and revoke-key script, against the real stack in a private data dir.

    fake_llm.py   TEST DOUBLE: an OpenAI-compatible chat/completions server on loopback (no internet here)
    world.py      what the steps share: the private environment, the CLI as a user runs it, the API,
                  and read-only views of Postgres and BullMQ for counting
    steps.py      the steps, each returning a detail line or raising StepFailed
    script.py     runs them in order (PASS/FAIL/SKIP per step), always stops the stack, shows the logs
                  of the failing part, removes the private data dir on success
  The same over the docker stack (`e2e --docker`), split the same way:
    docker_world.py    DockerWorld (private data dir, its context), posting, the LLM double's stats and
                       hold/release, psql, the bundle's CLI, job rows, the crash helpers
    docker_steps.py    the steps around the crashes: images, Docker rules, up, key, scaling, exactly once,
                       revoke, secrets, down
    docker_crashes.py  the crash steps: worker, worker mid-job (+ jobs recover), store, Postgres, server
    docker.py          run_docker_e2e: the step list in order, always brings the project down
"""
