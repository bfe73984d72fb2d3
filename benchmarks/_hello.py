"""The hello-world FastAPI app the HTTP benchmark compares the service with."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/hello")
def hello(body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "symbol": body.get("symbol")}
