"""Make ``import gateway`` mean the gateway package, not this repository folder.

With ``--import-mode=importlib`` pytest imports this file as ``gateway.tests.conftest`` and,
to do so, registers the folder ``gateway/`` (which has no ``__init__.py``) as a namespace
package called ``gateway`` in ``sys.modules``. That entry shadows the real package in
``gateway/src/gateway``, so ``from gateway.app import create_app`` fails unless something
imported the real package first. Swap the real package back in; ``gateway.tests`` stays
registered, so pytest can still import the test modules of this folder.
"""

from __future__ import annotations

import importlib
import sys

_folder = sys.modules.get("gateway")
if _folder is not None and getattr(_folder, "__file__", None) is None:
    del sys.modules["gateway"]
    importlib.import_module("gateway")
    importlib.import_module("gateway.app")
