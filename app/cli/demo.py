"""``passerelle demo``: the sandbox and the hub in one process, wired together.

Starts every vendor simulator (with background team activity), points the demo
configuration's connectors at them, applies migrations, and serves the hub with its
scheduler, so `/api/status` and the status page fill with real runs within seconds.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from app.errors import ConfigError
from app.logging import configure_logging, secret_values
from app.settings import Settings, load_settings

DEFAULT_DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"

# Connector type -> the sandbox vendor that serves it.
_SANDBOX_VENDOR = {
    "jira": "jira",
    "confluence": "confluence",
    "slack": "slack",
    "google_calendar": "google_calendar",
    "outlook": "graph",
}


def point_at_sandbox(settings: Settings, urls: dict[str, str], ca_file: Path | None = None) -> Settings:
    """A copy of ``settings`` whose sandbox-backed connectors use the running simulators' URLs."""
    connectors: dict[str, Any] = {}
    for name, conf in settings.connectors.items():
        vendor = _SANDBOX_VENDOR.get(conf.type)
        if vendor is None or vendor not in urls:
            connectors[name] = conf
            continue
        url = urls[vendor]
        update: dict[str, Any] = {"base_url": url, "ca_file": ca_file}
        if conf.type == "google_calendar":
            update["token_uri"] = f"{url}/token"
        if conf.type == "outlook":
            update["authority_url"] = url
        connectors[name] = conf.model_copy(update=update)
    return settings.model_copy(update={"connectors": connectors})


def run_demo(
    *,
    config: Path | None,
    host: str | None,
    port: int | None,
    sandbox_base_port: int,
    seed: int,
    activity: bool,
    exit_after: float | None = None,
) -> int:
    import uvicorn

    from app.api import create_app
    from app.sandbox.runner import start_sandbox

    path = config or DEFAULT_DEMO_CONFIG
    if not path.exists():
        raise ConfigError(f"demo config not found: {path}")
    settings = load_settings(path)
    if not settings.demo:
        raise ConfigError(f"{path}: demo must be true for `passerelle demo`")
    configure_logging(settings.log.format, settings.log.level, secret_values(settings))
    sandbox = start_sandbox(base_port=sandbox_base_port, seed=seed, activity=activity)
    try:
        settings = point_at_sandbox(settings, sandbox.urls, sandbox.ca_file)
        host = host or settings.server.host
        port = port or settings.server.port
        public = settings.server.public_base_url or f"http://{host}:{port}"
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"host": host, "port": port,
                                                                 "public_base_url": public})}
        )
        app = create_app(settings, migrate=True)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
        token = settings.admin_token.get_secret_value() if settings.admin_token else ""
        print(sandbox.describe())
        print(f"\nPasserelle demo: http://{host}:{port}/  (admin token: {token})")
        print(f"  curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/status\n", flush=True)
        if exit_after is not None:
            timer = threading.Timer(exit_after, lambda: setattr(server, "should_exit", True))
            timer.daemon = True
            timer.start()
        server.run()
    finally:
        sandbox.stop()
    return 0
