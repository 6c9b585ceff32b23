"""Who may call each supervisors operation (vfu_common.access; object rules in the features).

Each feature keeps its own table beside its endpoints (``<feature>/matrix.py``); this is
their union, which ``create_service_app`` checks against the app's operations.
"""

from __future__ import annotations

from vfu_common.access import Access

from supervisors.imports.matrix import ACCESS as IMPORTS
from supervisors.registry.matrix import ACCESS as REGISTRY
from supervisors.reports.matrix import ACCESS as REPORTS
from supervisors.training.matrix import ACCESS as TRAINING

ACCESS: dict[str, Access] = {**REGISTRY, **TRAINING, **IMPORTS, **REPORTS}
