"""A small validator built from the Calendar v3 discovery document (the one googleapiclient ships,
byte-identical to ``vendor-specs/google/calendar.v3.discovery.json``).

It checks request parameters (required, known, typed, enums, minimum/maximum, date-time with
offset) and JSON bodies against the schemas (known properties, types, formats, ``$ref``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import googleapiclient

DOCUMENT_PATH = os.path.join(
    os.path.dirname(googleapiclient.__file__), "discovery_cache/documents/calendar.v3.json"
)


@dataclass(frozen=True)
class Method:
    id: str
    http_method: str
    path: str
    spec: dict[str, Any]

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(self.path))
        return re.compile(f"^{regex}$")


class Discovery:
    def __init__(self, path: str = DOCUMENT_PATH) -> None:
        with open(path, encoding="utf-8") as fh:
            self.doc: dict[str, Any] = json.load(fh)
        self.schemas: dict[str, Any] = self.doc["schemas"]
        self.methods: dict[str, Method] = {}
        for resource in self.doc["resources"].values():
            for spec in resource.get("methods", {}).values():
                self.methods[spec["id"]] = Method(spec["id"], spec["httpMethod"], spec["path"], spec)

    def method_for(self, http_method: str, url_path: str) -> Method:
        """The method a request path names, with or without the ``/calendar/v3/`` service path."""
        path = url_path.lstrip("/").removeprefix("calendar/v3/")
        # Fixed segments first: ``events/watch`` must not match ``events/{eventId}``.
        candidates = sorted(self.methods.values(), key=lambda m: m.path.count("{"))
        for method in candidates:
            if method.http_method == http_method and method.pattern().match(path):
                return method
        raise AssertionError(f"no discovery method for {http_method} {url_path}")

    # --- parameters ---------------------------------------------------------------------------
    def check_params(self, method_id: str, query: dict[str, list[str]]) -> list[str]:
        spec = self.methods[method_id].spec
        known = {**self.doc["parameters"], **spec.get("parameters", {})}
        problems = []
        for name, param in spec.get("parameters", {}).items():
            if param.get("required") and param["location"] == "query" and name not in query:
                problems.append(f"{method_id}: missing required {name}")
        for name, values in query.items():
            param = known.get(name)
            if param is None:
                problems.append(f"{method_id}: unknown parameter {name}")
                continue
            if len(values) > 1 and not param.get("repeated"):
                problems.append(f"{method_id}: {name} is not repeated")
            for value in values:
                problems.extend(f"{method_id}: {p}" for p in self._check_scalar(name, param, value))
        return problems

    @staticmethod
    def _check_scalar(name: str, param: dict[str, Any], value: str) -> list[str]:
        kind = param.get("type")
        if kind == "boolean" and value not in ("true", "false"):
            return [f"{name}={value!r} is not a boolean"]
        if kind == "integer":
            try:
                number = int(value)
            except ValueError:
                return [f"{name}={value!r} is not an integer"]
            if "minimum" in param and number < int(param["minimum"]):
                return [f"{name}={number} below minimum {param['minimum']}"]
            if "maximum" in param and number > int(param["maximum"]):
                return [f"{name}={number} above maximum {param['maximum']}"]
        if "enum" in param and value not in param["enum"]:
            return [f"{name}={value!r} not in {param['enum']}"]
        if param.get("format") == "date-time":
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return [f"{name}={value!r} lacks a time zone offset"]
        return []

    # --- bodies -------------------------------------------------------------------------------
    def check_body(self, schema_name: str, data: Any) -> list[str]:
        return self._check(self.schemas[schema_name], data, schema_name)

    def _check(self, schema: dict[str, Any], data: Any, where: str) -> list[str]:
        if "$ref" in schema:
            return self._check(self.schemas[schema["$ref"]], data, where)
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(data, dict):
                return [f"{where}: expected object, got {type(data).__name__}"]
            problems = []
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, value in data.items():
                if key in props:
                    problems.extend(self._check(props[key], value, f"{where}.{key}"))
                elif extra is not None:
                    problems.extend(self._check(extra, value, f"{where}[{key}]"))
                else:
                    problems.append(f"{where}: unknown property {key!r}")
            return problems
        if kind == "array":
            if not isinstance(data, list):
                return [f"{where}: expected array"]
            return [
                p for i, item in enumerate(data) for p in self._check(schema["items"], item, f"{where}[{i}]")
            ]
        if kind == "string":
            if not isinstance(data, str):
                return [f"{where}: expected string, got {data!r}"]
            return self._check_format(schema.get("format"), data, where)
        if kind == "boolean" and not isinstance(data, bool):
            return [f"{where}: expected boolean"]
        if kind == "integer" and (not isinstance(data, int) or isinstance(data, bool)):
            return [f"{where}: expected integer"]
        if kind == "any":
            return []
        return []

    @staticmethod
    def _check_format(fmt: str | None, value: str, where: str) -> list[str]:
        try:
            if fmt == "date-time":
                if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
                    return [f"{where}: date-time without offset"]
            elif fmt == "date":
                date.fromisoformat(value)
            elif fmt == "int64":
                int(value)
        except ValueError:
            return [f"{where}: {value!r} is not a valid {fmt}"]
        return []

    def response_schema(self, method_id: str) -> str | None:
        ref = self.methods[method_id].spec.get("response", {}).get("$ref")
        return str(ref) if ref else None

    def request_schema(self, method_id: str) -> str | None:
        ref = self.methods[method_id].spec.get("request", {}).get("$ref")
        return str(ref) if ref else None
