"""HTTP endpoints of the offers feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/placements")
