"""Backups of the whole stack (Postgres first, then the queue store) and their restores.

Pure:
    rdb.py             RDB headers, the readable-version table, the checker's verdict
    keyspace.py        key counts (lasting vs expiring) and the rule that compares them
    manifest.py        the archive's manifest.json
Acting:
    checktool.py       run the server's own RDB checker (redis-check-rdb / valkey-check-rdb)
    scratch.py         a throwaway server on a private port (convert, load-test, snapshot a copy)
    store_snapshot.py  BGSAVE + copy + check, or a scratch SAVE of a stopped store
    store_restore.py   stage (nothing stopped) -> swap (old data aside) -> verify, or put back
    pgtools.py         claude-mem's database, and pg_dump / pg_restore of the server's major
    postgres_dump.py   pg_dump + row counts in one exported snapshot
    postgres_restore.py  rename aside -> create -> pg_restore -> verify, or rename back
    archive.py         write / extract the tar.gz, digests checked
    quiesce.py         stop our server and workers for a restore, start them again
    docker_scripts.py  (pure) the sh/valkey-cli/psql/pg_dump argv run inside the docker stack's containers
    docker_source.py   the docker stack as a backup source: pg_dump and BGSAVE + check inside its containers
    docker_target.py   the docker stack as a restore target: staged and checked first, then swapped, or put back
    create.py          `store backup` and `backup`
    restore.py         `store restore` and `restore`
"""
