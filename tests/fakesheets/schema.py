"""Request bodies checked against Google's own published schema for Sheets v4 (the discovery
document that ships in google-api-python-client), as strictly as Google checks them: an unknown
field, a wrong type or a value outside an enum is a 400 with Google's wording, e.g.

    Invalid JSON payload received. Unknown name "colour" at 'requests[0].add_sheet.properties':
    Cannot find field.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Any

import googleapiclient

SCHEMA_FILE = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                           "documents", "sheets.v4.json")


@lru_cache(maxsize=1)
def schemas() -> dict[str, dict]:
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        return json.load(f)["schemas"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def problems(schema: str, body: Any) -> list[str]:
    """Google's messages for everything wrong with `body` as a `schema` (empty: valid)."""
    out: list[str] = []
    _check({"$ref": schema}, body, "", out)
    return out


def _check(spec: dict, value: Any, where: str, out: list[str]) -> None:
    if "$ref" in spec:
        spec = schemas()[spec["$ref"]]
    kind = spec.get("type")
    if value is None or kind == "any":
        return
    at = f" at '{where}'" if where else ""
    if kind == "object":
        if not isinstance(value, dict):
            out.append(f"Invalid value{at} ({type(value).__name__}), expected an object")
            return
        fields = spec.get("properties")
        extra = spec.get("additionalProperties")
        for name, item in value.items():
            path = f"{where}.{_snake(name)}" if where else _snake(name)
            if fields is not None and name in fields:
                _check(fields[name], item, path, out)
            elif extra is not None:
                _check(extra, item, path, out)
            else:
                out.append(f'Invalid JSON payload received. Unknown name "{name}"{at}: '
                           "Cannot find field.")
    elif kind == "array":
        if not isinstance(value, list):
            out.append(f"Invalid value{at} ({json.dumps(value)[:40]}), expected a list")
            return
        for i, item in enumerate(value):
            _check(spec.get("items", {}), item, f"{where}[{i}]", out)
    elif kind == "string":
        int64 = spec.get("format") in ("int64", "uint64")
        if not isinstance(value, str) and not (int64 and isinstance(value, int)):
            out.append(f"Invalid value{at} ({json.dumps(value)[:40]}), expected a string")
        elif "enum" in spec and value not in spec["enum"]:
            out.append(f"Invalid value{at} ({value}), expected one of "
                       + ", ".join(spec["enum"]))
    elif kind == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           isinstance(value, str) and value.lstrip("-").isdigit()):
            out.append(f"Invalid value{at} ({json.dumps(value)[:40]}), expected an integer")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append(f"Invalid value{at} ({json.dumps(value)[:40]}), expected a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"Invalid value{at} ({json.dumps(value)[:40]}), expected a boolean")
