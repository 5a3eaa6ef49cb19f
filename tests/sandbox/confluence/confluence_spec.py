"""Validate one request or response against the schema of its own operation in Atlassian's specs.

The vendor documents fail a whole-document check (see vendor-specs/README.md), so each exchange
is validated against its operation's schema only. Known spec deviations of the real API are
patched here, each with the reason.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "confluence"
V2_FILE = SPECS / "confluence-rest-v2.openapi-v2.v3.json"
V1_FILE = SPECS / "confluence-rest-v1.swagger.v3.json"


@cache
def _document(which: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((V2_FILE if which == "v2" else V1_FILE).read_text())
    doc = copy.deepcopy(doc)
    if which == "v2":
        for name in ("PageBulk", "PageSingle"):
            props = doc["components"]["schemas"][name]["properties"]
            # Deviation: the spec says "or null if there is no parent page" but types it as a plain
            # string; Confluence sends null for a space's root pages.
            props["parentId"]["nullable"] = True
        parent_type = doc["components"]["schemas"]["ParentContentType"]
        parent_type["nullable"] = True
        parent_type["enum"] = [*parent_type["enum"], None]
        for name in ("PageCreateRequest", "PageUpdateRequest"):
            body = doc["components"]["requestBodies"][name]["content"]["application/json"]["schema"]
            # Deviation: ``body`` is a oneOf of two schemas that both accept any object (no required
            # keys, no additionalProperties: false), so no body can ever match exactly one of them.
            body["properties"]["body"]["anyOf"] = body["properties"]["body"].pop("oneOf")
    return doc


@cache
def _registry(which: str) -> Registry:
    resource = Resource.from_contents(_document(which), default_specification=DRAFT4)
    return Registry().with_resource(f"urn:confluence-{which}", resource)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _validate(which: str, pointer: str, instance: Any) -> None:
    schema = {"$ref": f"urn:confluence-{which}#/{pointer}"}
    validator = OAS30Validator(schema, registry=_registry(which), format_checker=oas30_format_checker)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        detail = "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
        raise AssertionError(f"{which} {pointer} does not match the spec:\n{detail}")


def operation(which: str, path: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = _document(which)["paths"][path][method]
    return op


def validate_response(which: str, path: str, method: str, status: int, body: Any) -> None:
    """``body`` matches the operation's documented response for ``status`` (which must be documented)."""
    responses = operation(which, path, method)["responses"]
    assert str(status) in responses, f"{method.upper()} {path} documents no {status} response"
    content = responses[str(status)].get("content") or {}
    if "application/json" in content:
        _validate(
            which,
            _pointer(
                "paths", path, method, "responses", str(status), "content", "application/json", "schema"
            ),
            body,
        )


def validate_request(which: str, path: str, method: str, body: Any) -> None:
    op = operation(which, path, method)
    ref = op["requestBody"].get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        pointer = _pointer("components", "requestBodies", name, "content", "application/json", "schema")
    else:
        pointer = _pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
    _validate(which, pointer, body)


def validate_query(which: str, path: str, method: str, params: dict[str, Any]) -> None:
    """Each query parameter is documented for the operation and matches its schema."""
    op = operation(which, path, method)
    documented: dict[str, tuple[dict[str, Any], str]] = {}
    for i, param in enumerate(op.get("parameters", [])):
        pointer = _pointer("paths", path, method, "parameters", str(i))
        if "$ref" in param:
            name = param["$ref"].rsplit("/", 1)[-1]
            param = _document(which)["components"]["parameters"][name]
            pointer = _pointer("components", "parameters", name)
        if param.get("in") == "query":
            documented[param["name"]] = (param, pointer)
    for name, value in params.items():
        assert name in documented, f"{method.upper()} {path} documents no query parameter {name!r}"
        param, pointer = documented[name]
        schema = param["schema"]
        if schema.get("type") == "array":
            # Query strings are text: coerce like a server would before checking the schema.
            items = value if isinstance(value, list) else str(value).split(",")
            integer_items = schema.get("items", {}).get("type") == "integer"
            value = [int(v) if integer_items and str(v).isdigit() else v for v in items]
        elif schema.get("type") == "integer":
            value = int(value)
        elif schema.get("type") == "boolean":
            value = str(value).lower() == "true"
        _validate(which, f"{pointer}/schema", value)


def exchange(
    client: Any,
    which: str,
    method: str,
    template: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    json_body: Any = None,
) -> Any:
    """Send one request and check its query, body and answer against ``template``'s operation.

    An answer whose status the operation does not document is returned unchecked; the caller
    asserts on it (and the report lists it as a spec gap).
    """
    in_url = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    validate_query(which, template, method, {**in_url, **(params or {})})
    if json_body is not None:
        validate_request(which, template, method, json_body)
    # httpx drops a URL's own query when given params, even empty ones: pass None then.
    response = client.request(method.upper(), url, params=params or None, json=json_body)
    responses = operation(which, template, method)["responses"]
    if str(response.status_code) in responses:
        body = response.json() if response.content else None
        validate_response(which, template, method, response.status_code, body)
    return response
