"""What claude-mem's server bundle (server-service.cjs) reads and says, kept apart from running it.

    env.py         StackConfig and the pure build_*_env functions for the HTTP server, the worker and CLI calls
    validation.py  claude-mem's startup rules (and ours) as doctor-style ProbeResult lines with fixes
    apikeys.py     `server api-key create|revoke` through the bundle's Postgres path; output parsers
    api.py         a small HTTP client of the server's /v1 API with hard timeouts
"""
