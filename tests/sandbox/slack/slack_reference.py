"""Response schemas per Web API method, built from Slack's own published references.

The per-method ``docs.slack.dev/methods/<method>.json`` (2026) gives the ``output`` schema;
its ``{"schema": "<name>"}`` references point at Slack's object schemas, which only the
2021 OpenAPI file defines (``defs_<name>`` / ``objs_<name>``). Two adaptations, both
because the 2021 file predates fields Slack sends today (``edited``, ``metadata``,
``is_email_confirmed`` ...):

- ``additionalProperties: false`` is dropped (required fields and field types stay);
- the 2021 file's ``items: [A, B]`` on non-array schemas (its way to say "one of") becomes ``anyOf``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "slack"

__all__ = ["SPECS", "assert_matches_reference", "method_reference"]


@cache
def _definitions() -> dict[str, Any]:
    openapi = json.loads((SPECS / "slack_web_openapi_v2.json").read_text())
    return {name: _adapt(schema) for name, schema in openapi["definitions"].items()}


@cache
def method_reference(method: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPECS / "docs.slack.dev" / "methods" / f"{method}.json").read_text())
    return data


def _adapt(node: Any) -> Any:
    if isinstance(node, list):
        return [_adapt(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _adapt(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(out.get("items"), list) and out.get("type") != "array":
        out["anyOf"] = out.pop("items")
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/definitions/", "#/$defs/")
    named = out.pop("schema", None)
    if isinstance(named, str):
        known = _definitions_names()
        target = next((f"{p}_{named}" for p in ("defs", "objs") if f"{p}_{named}" in known), None)
        if target is not None:
            out["$ref"] = f"#/$defs/{target}"
    return out


@cache
def _definitions_names() -> frozenset[str]:
    openapi = json.loads((SPECS / "slack_web_openapi_v2.json").read_text())
    return frozenset(openapi["definitions"])


def response_schema(method: str) -> dict[str, Any]:
    output = method_reference(method)["output"] or {"type": "object"}
    schema = _adapt(output)
    schema.setdefault("properties", {})["ok"] = {"const": True}
    schema.setdefault("required", [])
    schema["required"] = [*schema["required"], "ok"]
    schema["$defs"] = _definitions()
    return dict(schema)


def assert_matches_reference(method: str, payload: dict[str, Any]) -> None:
    """Validate a success answer against the method's output schema; raises ``ValidationError``."""
    jsonschema.Draft202012Validator(response_schema(method)).validate(payload)


def reference_errors(method: str) -> set[str]:
    return set(method_reference(method)["errors"])
