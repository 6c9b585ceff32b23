"""HTTP endpoints of the reports feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
