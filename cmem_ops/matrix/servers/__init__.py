"""Start a matrix target's server and always stop what was started (variants share base.py).

    base.py      StartedServer (the Protocol), StartSpec, ServerStartError, wait_for_ping
    native.py    a native binary under supervision, stopped by identity (start time + token)
    docker.py    one compose/matrix.yml service under a private project name, removed with `down -v`
    service.py   an already running throwaway server ($CMEM_MATRIX_<T>_URL): configured, then restored
"""
