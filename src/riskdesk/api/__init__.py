"""The HTTP service: seed 001's ``/api/capital`` endpoints and the operator's endpoints.

Build it with :func:`create_app`; run it with ``riskdesk serve`` or
``uvicorn --factory riskdesk.api.app:create_app_from_env``.
"""

from __future__ import annotations

from riskdesk.api.app import create_app, create_app_from_env

__all__ = ["create_app", "create_app_from_env"]
