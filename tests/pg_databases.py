"""Test databases on PostgreSQL: cloned from the migrated template once, wiped between tests.

CREATE DATABASE costs about half a second on a busy machine, more than most tests; deleting
the few rows a test leaves and resetting the sequences costs a few milliseconds. A database
is reused only when it still has exactly the template's objects and migration; anything else
(a test that made a table of its own, say) is dropped and replaced by a fresh clone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg
from sqlalchemy.engine import make_url

_OBJECTS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
"""
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
_SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename), start_value, last_value
FROM pg_sequences WHERE schemaname = 'public'
"""


def dsn(url: str, database: str) -> str:
    u = make_url(url).set(drivername="postgresql", database=database)
    return u.render_as_string(hide_password=False)


async def admin(url: str, sql: str) -> None:
    """Run `sql` on the server's maintenance database (CREATE and DROP DATABASE)."""
    conn = await asyncpg.connect(dsn(url, make_url(url).database or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class Template:
    """What a wiped database must look like again: the template's rows and sequences."""

    name: str
    objects: int
    tables: list[str]
    seed: dict[str, list[asyncpg.Record]]
    sequences: list[tuple[str, int, int | None]]

    @classmethod
    async def read(cls, url: str, name: str) -> Template:
        conn = await asyncpg.connect(dsn(url, name))
        try:
            objects = int(await conn.fetchval(_OBJECTS))
            tables = [r[0] for r in await conn.fetch(_TABLES)]
            seed = {}
            for table in tables:
                rows = await conn.fetch(f'SELECT * FROM "{table}"')
                if rows:
                    seed[table] = list(rows)
            sequences = [(r[0], int(r[1]), r[2]) for r in await conn.fetch(_SEQUENCES)]
        finally:
            await conn.close()
        return cls(name, objects, tables, seed, sequences)


@dataclass
class DatabasePool:
    url: str  # the server's maintenance database, as EVHUB_TEST_DATABASE_URL gives it
    template: Template
    free: list[str] = field(default_factory=list)

    async def admin(self, sql: str) -> None:
        await admin(self.url, sql)

    async def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"evhub_t_{uuid.uuid4().hex[:12]}"
        await self.admin(f"CREATE DATABASE {name} TEMPLATE {self.template.name}")
        return name

    async def give_back(self, name: str) -> None:
        """Wipe the database for the next test, or drop it when it cannot be trusted."""
        try:
            reusable = await self._wipe(name)
        except (asyncpg.PostgresError, OSError):
            reusable = False
        if reusable:
            self.free.append(name)
        else:
            await self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    async def drop_all(self) -> None:
        while self.free:
            await self.admin(f"DROP DATABASE IF EXISTS {self.free.pop()} WITH (FORCE)")

    async def _wipe(self, name: str) -> bool:
        t = self.template
        conn = await asyncpg.connect(dsn(self.url, name))
        try:
            # Whatever the test left connected (a killed server's sessions, advisory locks).
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if int(await conn.fetchval(_OBJECTS)) != t.objects:
                return False
            if [r[0] for r in await conn.fetch(_TABLES)] != t.tables:
                return False
            async with conn.transaction():
                # Replica mode: no foreign key or rule trigger fires while the rows go.
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(";".join(f'DELETE FROM "{table}"' for table in t.tables))
                for table, rows in t.seed.items():
                    await conn.copy_records_to_table(
                        table, records=[tuple(r) for r in rows], columns=list(rows[0].keys())
                    )
                if t.sequences:
                    await conn.execute(
                        "SELECT "
                        + ", ".join(
                            f"setval('{seq}', {last}, true)"
                            if last is not None
                            else f"setval('{seq}', {start}, false)"
                            for seq, start, last in t.sequences
                        )
                    )
        finally:
            await conn.close()
        return True
