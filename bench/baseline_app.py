"""The ingest baseline: a bare FastAPI endpoint that reads the body and answers 200.

Served exactly as ``passerelle serve`` serves the hub (``uvicorn.run`` with the same
defaults: uvloop and httptools when installed, no access log), so the ratio to it is
the cost of the hub's own work: verification, dedupe and the durable inbox write.
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

__all__ = ["build_app", "main"]


def build_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    async def accept(request: Request) -> Response:
        await request.body()
        return JSONResponse({"ok": True})

    # The hub's two intake paths, so the generator sends identical requests to both servers.
    app.add_api_route("/webhooks/slack/events", accept, methods=["POST"])
    app.add_api_route("/webhooks/jira", accept, methods=["POST"])
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build_app(), host=args.host, port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
