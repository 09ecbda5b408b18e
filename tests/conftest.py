"""Shared fixtures: every persistence test runs on SQLite and on PostgreSQL.

PostgreSQL is used when HARBOUR_TEST_POSTGRES_URL is set (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres); each test run gets its own fresh
database, dropped at the end. With CI=true a missing PostgreSQL fails the run; elsewhere the
PostgreSQL half is skipped with one visible line.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.settings import Settings, load_settings
from bot.store.models import Base

POSTGRES_ENV = "HARBOUR_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def _admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return None
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


async def _drop_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this run, or None when not configured."""
    admin = _admin_url()
    if admin is None:
        yield None
        return
    name = f"harbour_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_create_database(admin, name))
    except Exception as exc:  # a configured but unreachable server is always an error
        pytest.fail(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {type(exc).__name__}: {exc}")
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_drop_database(admin, name))


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> AsyncIterator[str]:
    """A URL for an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'harbour.db'}"
        return
    if postgres_database is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} to run them")
    await _reset_postgres(postgres_database)
    yield postgres_database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Local-mode settings on the test database, with a random key."""
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
    )


def all_tables() -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables]
