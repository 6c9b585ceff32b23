"""The MetaData of the supervisors service's own tables (each feature's models.py adds its
tables to it)."""

from __future__ import annotations

from vfu_common.db import new_metadata

metadata = new_metadata()
