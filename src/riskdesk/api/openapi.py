"""Print the OpenAPI document: ``python -m riskdesk.api.openapi > openapi.json``.

The document describes routes and schemas only, so it is built without opening a database.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the service, built without a database."""
    from fastapi.openapi.utils import get_openapi

    from riskdesk import __version__
    from riskdesk.api import _admin, _capital, _exits, _orders
    from riskdesk.api.app import DESCRIPTION

    routes = [*_capital.router.routes, *_orders.router.routes, *_exits.router.routes,
              *_admin.router.routes, *_admin.ops.routes]
    return get_openapi(title="riskdesk", version=__version__, description=DESCRIPTION,
                       routes=routes)


def render() -> str:
    """The document as stable, indented JSON with a trailing newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write the document to standard output."""
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
