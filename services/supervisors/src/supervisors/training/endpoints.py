"""HTTP endpoints of the training feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
