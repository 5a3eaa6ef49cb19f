"""The ``passerelle`` command: serve | demo | sync | status | check | approve-deletes | db upgrade | sandbox.

Exit codes: 0 success, 1 a sync or check failed, 2 invalid configuration or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from app.errors import ConfigError
from app.logging import configure_logging, secret_values
from app.settings import Settings, load_settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="passerelle", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--config", "-c", type=Path, help="YAML config file (default: $PASSERELLE_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hub service (API, webhooks, scheduler)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    demo = sub.add_parser("demo", help="run the hub against the built-in sandbox")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--sandbox-base-port", type=int, default=8100)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--no-activity", action="store_true", help="no background team activity in the sandbox")
    demo.add_argument("--exit-after", type=float, help=argparse.SUPPRESS)

    sync = sub.add_parser("sync", help="sync one pair (or all) now, in this process")
    sync.add_argument("pair", nargs="?", help="pair id (default: every enabled pair)")
    sync.add_argument("--full", action="store_true", help="full resync from scratch")

    sub.add_parser("status", help="show every connector and pair with counts")
    sub.add_parser("check", help="validate the config and probe every connector")

    approve = sub.add_parser("approve-deletes", help="approve deletes the mass-delete guard held back")
    approve.add_argument("pair", help="pair id")
    approve.add_argument("label", help="connector/stream/partition, as `status` lists it")
    approve.add_argument("--up-to", type=int, help="at most this many (default: as many as were held back)")

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations")

    sub.add_parser("sandbox", help="run the vendor simulators (see `passerelle sandbox --help`)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:
        # The simulators have their own options; argparse.REMAINDER would refuse "--base-port".
        from app.sandbox.runner import main as sandbox_main

        return sandbox_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from app.cli.demo import run_demo

            return run_demo(
                config=args.config, host=args.host, port=args.port, sandbox_base_port=args.sandbox_base_port,
                seed=args.seed, activity=not args.no_activity, exit_after=args.exit_after,
            )
        settings = load_settings(args.config)
        configure_logging(settings.log.format, settings.log.level, secret_values(settings))
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        if args.command == "sync":
            from app.cli.sync import sync_command

            return asyncio.run(sync_command(settings, args.pair, full=args.full))
        if args.command == "status":
            from app.cli.status import status_command

            return asyncio.run(status_command(settings))
        if args.command == "check":
            from app.cli.status import check_command

            return asyncio.run(check_command(settings))
        if args.command == "approve-deletes":
            from app.cli.deletes import approve_deletes_command

            return asyncio.run(approve_deletes_command(settings, args.pair, args.label, args.up_to))
        if args.command == "db":
            from app.storage import upgrade

            upgrade(settings.effective_database_url)
            print("database is at the latest schema")
            return 0
    except ConfigError as exc:
        print(f"passerelle: {exc}", file=sys.stderr)
        return 2
    return 2


def _serve(settings: Settings, host: str | None, port: int | None) -> int:
    import uvicorn

    from app.api import create_app

    app = create_app(settings)
    uvicorn.run(
        app, host=host or settings.server.host, port=port or settings.server.port,
        log_config=None, access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
