"""HTTP endpoints of the registry feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
