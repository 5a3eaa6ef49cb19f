"""Every route of the Jira simulator, installed on one :class:`JiraSimulator`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request, Response

from app.sandbox.jira.errors import JiraApiError, error_response
from app.sandbox.jira.routes.admin import install_admin_routes
from app.sandbox.jira.routes.agile import install_agile_routes
from app.sandbox.jira.routes.issues import install_issue_routes
from app.sandbox.jira.routes.platform import install_platform_routes
from app.sandbox.jira.routes.search import install_search_routes
from app.sandbox.jira.routes.webhooks import install_webhook_routes

if TYPE_CHECKING:
    from app.sandbox.jira.simulator import JiraSimulator

__all__ = ["install_routes"]


def install_routes(sim: JiraSimulator) -> None:
    async def jira_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, JiraApiError)
        return error_response(exc.status, exc.messages, exc.errors, exc.headers or None)

    sim.app.add_exception_handler(JiraApiError, jira_error)
    install_platform_routes(sim)
    install_search_routes(sim)
    install_issue_routes(sim)
    install_agile_routes(sim)
    install_webhook_routes(sim)
    install_admin_routes(sim)
