"""The hello-world FastAPI app the HTTP benchmark compares the service with.

Each endpoint reads a JSON body and answers JSON, like the recommendation endpoint.
``/hello`` is an ``async def`` like the recommendation endpoint (the baseline the target is
measured against); ``/hello-sync`` is a plain ``def``, which FastAPI runs on its thread pool,
for reference.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/hello")
async def hello(body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "symbol": body.get("symbol")}


@app.post("/hello-sync")
def hello_sync(body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "symbol": body.get("symbol")}
