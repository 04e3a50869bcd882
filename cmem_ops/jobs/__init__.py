"""Generation jobs stuck in `processing` (claude-mem defect: a worker SIGKILLed mid-job) and their recovery.

    stuck.py     find `processing` jobs in Postgres, read their BullMQ lock, judge each (pure verdict);
                 scan() is the one read, used by the doctor's `stuck jobs` probe and by recover.py
    recover.py   the recovery plan (pure) and applying it: DEL the lock (only when its holder is proven
                 dead), then POST /v1/jobs/:id/cancel and /retry with a short-lived key of that project;
                 NativeJobsAccess reaches Postgres, the store and the bundle of the native stack
    docker_stack.py  the same reads and acts on the docker stack, by `docker compose exec` of its
                 containers (psql, valkey-cli, the bundle's CLI); a dead holder proven by start times
"""
