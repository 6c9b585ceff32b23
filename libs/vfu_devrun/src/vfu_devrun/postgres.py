"""Create the per-service PostgreSQL databases ``make run`` needs when pointed at a server."""

from __future__ import annotations

import asyncio

import asyncpg


async def _ensure(server_url: str, names: list[str]) -> None:
    url = server_url.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres"
    conn = await asyncpg.connect(url)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def ensure_databases(server_url: str, names: list[str]) -> None:
    """Create any of ``names`` missing on the server at ``server_url``."""
    asyncio.run(_ensure(server_url, names))
