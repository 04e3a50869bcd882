"""`cmem-ops metrics`: claude-mem's queue, store, Postgres jobs and server as Prometheus metrics.

    lanes.py       the two BullMQ lanes by counts only: jobs per state, oldest waiting age, live workers
    store.py       the queue store's health from INFO (pure)
    generation.py  Postgres generation jobs by status; sampled Postgres/BullMQ divergence
    snapshot.py    one scrape: read every source once, each bounded, into a MetricsSnapshot
    exposition.py  the snapshot as prometheus_client metric families (a custom Collector)
    serve.py       the /metrics HTTP endpoint: loopback by default, bearer token when wider

Only exposition.py and serve.py import prometheus_client; `cmem-ops status` reads lanes.py alone.
"""
