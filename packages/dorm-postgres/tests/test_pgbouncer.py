"""Through PgBouncer in transaction mode with ``PREPARE_THRESHOLD: None``.

Starts a private pgbouncer (the Debian ``pgbouncer`` package) on a free
port in front of the test database.  Skips with the reason when the binary
is missing or cannot start (PgBouncer is optional, even in CI).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

import dorm
from dorm.backends.base.statement import Statement
from dorm.db import executor
from dorm.db.connections import connections
from dorm.transaction import aatomic, atomic

pytestmark = pytest.mark.postgres

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bouncer_url(pg_db_url: str) -> Iterator[str]:
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    parts = urlsplit(pg_db_url)
    dbname = parts.path.lstrip("/")
    user = parts.username or "postgres"
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="dorm_pgbouncer_")
    os.chmod(workdir, 0o777)
    ini = os.path.join(workdir, "pgbouncer.ini")
    users = os.path.join(workdir, "users.txt")
    with open(users, "w") as f:
        f.write(f'"{user}" ""\n')
    with open(ini, "w") as f:
        f.write(
            "[databases]\n"
            f"{dbname} = host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} dbname={dbname}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 200\n"
            f"logfile = {workdir}/pgbouncer.log\npidfile = {workdir}/pgbouncer.pid\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
    for path in (ini, users):
        os.chmod(path, 0o644)
    command = [PGBOUNCER, ini]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        command[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"postgresql://{user}@127.0.0.1:{port}/{dbname}"
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(url, connect_timeout=2, prepare_threshold=None).close()
            break
        except psycopg.Error as error:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=10)
                log = os.path.join(workdir, "pgbouncer.log")
                output = ""
                if os.path.exists(log):
                    with open(log, errors="replace") as f:
                        output = f.read()
                pytest.skip(f"pgbouncer did not start: {error}; {output[-500:]}")
            time.sleep(0.1)
    yield url
    dorm.close_all()
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def bounced(bouncer_url: str, configure_pg: Any) -> str:
    configure_pg()  # closes previous pools
    dorm.configure(DATABASES={"default": {"URL": bouncer_url, "PREPARE_THRESHOLD": None, "MAX_POOL_SIZE": 8}})
    conn = dorm.get_connection()
    conn.execute("DROP TABLE IF EXISTS bounced_item")
    conn.execute("CREATE TABLE bounced_item (id serial PRIMARY KEY, name text UNIQUE NOT NULL)")
    return bouncer_url


def test_raw_sql_and_transactions_through_pgbouncer(bounced: str) -> None:
    conn = dorm.get_connection()
    for i in range(20):  # the same shape many times: would be prepared without PREPARE_THRESHOLD None
        conn.execute("INSERT INTO bounced_item (name) VALUES (%s)", [f"n{i}"])
    with pytest.raises(RuntimeError):
        with atomic():
            conn.execute("INSERT INTO bounced_item (name) VALUES (%s)", ["rolled back"])
            raise RuntimeError
    with atomic():
        conn.execute("INSERT INTO bounced_item (name) VALUES (%s)", ["kept"])
        with pytest.raises(dorm.IntegrityError):
            with atomic():
                conn.execute("INSERT INTO bounced_item (name) VALUES (%s)", ["kept"])
    assert conn.execute("SELECT count(*) FROM bounced_item") == [(21,)]
    assert conn.execute("SELECT count(*) FROM pg_prepared_statements") == [(0,)]
    rows = conn.execute("INSERT INTO bounced_item (name) VALUES (%s), (%s) RETURNING name", ["r1", "r2"])
    assert rows == [("r1",), ("r2",)]


def test_timeouts_and_server_side_cursors_through_pgbouncer(bounced: str) -> None:
    stmt = Statement("default", "SELECT pg_sleep(2)", [])
    stmt.timeout_ms = 50
    with pytest.raises(dorm.QueryCanceledError, match="statement timeout"):
        executor.run(stmt)
    assert dorm.get_connection().execute("SHOW statement_timeout") == [("0",)]  # SET LOCAL did not leak
    dorm.get_connection().executemany("INSERT INTO bounced_item (name) VALUES (%s)", [[f"c{i}"] for i in range(50)])
    backend = connections["default"]
    pg_conn = backend.acquire()
    try:
        chunks = list(pg_conn.iterate(Statement("default", "SELECT name FROM bounced_item ORDER BY id", None), 20))
    finally:
        backend.release(pg_conn)
    assert [len(c) for c in chunks] == [20, 20, 10]


def test_many_threads_and_tasks_through_pgbouncer(bounced: str) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        for i in range(50):
            try:
                assert dorm.get_connection().execute("SELECT %s::int", [n * 100 + i]) == [(n * 100 + i,)]
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(work, range(20)))

    async def main() -> None:
        async def one(n: int) -> None:
            async with aatomic():
                await dorm.get_connection().aexecute("INSERT INTO bounced_item (name) VALUES (%s)", [f"a{n}"])
            assert await dorm.get_connection().aexecute("SELECT %s::int", [n]) == [(n,)]

        await asyncio.gather(*(one(n) for n in range(40)))
        await dorm.close_all_async()

    asyncio.run(main())
    assert errors == []
    assert dorm.get_connection().execute("SELECT count(*) FROM bounced_item WHERE name LIKE 'a%%'") == [(40,)]
