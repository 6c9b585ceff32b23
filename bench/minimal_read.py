"""The yardstick for a service read: a minimal FastAPI app running the same statement.

``python bench/minimal_read.py --database PATH --port P``

One route, ``GET /api/v1/placements/organisations/{organisation_id}``, which runs the
statement the placements service runs for that path (a primary-key SELECT on its
``organisation_projection``) on the same migrated SQLite file with the same driver
(aiosqlite, one connection opened at start-up), and answers the row as JSON. Served by
uvicorn with uvloop and httptools, as the services are. No authentication, no
middleware, no response model: what is left is FastAPI, the driver and the statement,
so ``direct / minimal`` says what the service's own machinery costs on a read.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import uvicorn
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

# The projection's columns as the public answer names them (SQLite stores UUIDs as hex).
STATEMENT = (
    "SELECT id, organisation_number, kind, name, municipality_code, aggregate_version"
    " FROM organisation_projection WHERE id = ?"
)


def create_app(database: str) -> FastAPI:
    connection: dict[str, aiosqlite.Connection] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        connection["db"] = await aiosqlite.connect(database)
        try:
            yield
        finally:
            await connection["db"].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/v1/placements/organisations/{organisation_id}")
    async def read_organisation(organisation_id: uuid.UUID) -> Any:
        async with connection["db"].execute(STATEMENT, (organisation_id.hex,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404)
        return JSONResponse(
            {
                "id": str(uuid.UUID(row[0])),
                "organisation_number": row[1],
                "kind": row[2],
                "name": row[3],
                "municipality_code": row[4],
                "version": row[5],
            }
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True, help="path of the placements SQLite file")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.database),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
