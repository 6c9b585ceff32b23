"""HTTP endpoints of the imports feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
