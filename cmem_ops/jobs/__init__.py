"""Generation jobs stuck in `processing` (claude-mem defect: a worker SIGKILLed mid-job) and their recovery.

    stuck.py     find `processing` jobs in Postgres, read their BullMQ lock, judge each (pure verdict);
                 scan() is the one read, used by the doctor's `stuck jobs` probe and by recover.py
    recover.py   the recovery plan (pure) and applying it: DEL the lock (only when its holder is proven
                 dead), then POST /v1/jobs/:id/cancel and /retry with a short-lived key of that project
"""
