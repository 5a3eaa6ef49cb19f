"""Validate one exchange against the schema of its own operation in Atlassian's published spec.

The whole documents do not pass a strict check (see the vendor-specs README), so each
request and response is validated against its operation's schema only, with the
document's ``components`` available for ``$ref``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "jira"
PLATFORM = SPECS / "jira-platform-rest-v3.swagger-v3.v3.json"
AGILE = SPECS / "jira-software-agile.swagger.v3.json"


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    return OAS30Validator({**schema, "components": spec["components"]})


def operation(template: str, method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = _load(AGILE if template.startswith("/rest/agile/") else PLATFORM)
    return spec, spec["paths"][template][method.lower()]


def response_schema(template: str, method: str, status: int) -> dict[str, Any] | None:
    _, op = operation(template, method)
    response = op["responses"].get(str(status))
    assert response is not None, f"{method} {template} does not document status {status}"
    content = (response.get("content") or {}).get("application/json") or {}
    schema = content.get("schema")
    return schema or None


def validate_response(template: str, method: str, status: int, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` fits the documented response."""
    spec, _ = operation(template, method)
    schema = response_schema(template, method, status)
    if schema is None:
        return
    _validator(spec, schema).validate(body)


def validate_request(template: str, method: str, body: Any) -> None:
    spec, op = operation(template, method)
    content = (op.get("requestBody") or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    assert schema is not None, f"{method} {template} documents no JSON request body"
    _validator(spec, schema).validate(body)


def validate_component(name: str, body: Any, agile: bool = False) -> None:
    spec = _load(AGILE if agile else PLATFORM)
    _validator(spec, {"$ref": f"#/components/schemas/{name}"}).validate(body)
