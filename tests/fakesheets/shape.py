"""How Google shapes the JSON it reads and answers: field masks (`a.b`, `a/b`, `a(b,c)`),
partial responses, defaults left out (proto3), colours kept at 8 bits a channel as float32."""
from __future__ import annotations

import math
import struct
from typing import Any


def fields(mask: str) -> list[str]:
    """A field mask as dotted paths. Google takes `a.b` and `a/b` alike, and `a(b,c(d))` for
    `a.b,a.c.d`."""
    mask = mask.replace("/", ".").replace(" ", "")
    out, depth, start = [], 0, 0
    parts = []
    for i, ch in enumerate(mask + ","):          # split on the commas outside parentheses
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(mask[start:i])
            start = i + 1
    for part in filter(None, parts):
        if "(" in part:
            head, inner = part.split("(", 1)
            out += [f"{head}.{sub}" for sub in fields(inner[:-1])]
        else:
            out.append(part)
    return out


def set_field(target: dict, name: str, value: Any) -> None:
    """Set, or remove when the value is the default: Google leaves defaults out (proto3)."""
    value = colours(value)
    if value in (None, False, 0, "", {}):
        target.pop(name, None)
    else:
        target[name] = value


def colours(value: Any) -> Any:
    """Colours as Google keeps them: 8 bits a channel (0.5 is kept as 127/255), as float32,
    channels that are 0 left out."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("red", "green", "blue", "alpha") and isinstance(v, (int, float)):
                f32 = struct.unpack("f", struct.pack("f", math.ceil(v * 255 - 0.5) / 255))[0]
                short = next(float(f"{f32:.{n}g}") for n in range(1, 10)
                             if struct.unpack("f", struct.pack("f", float(f"{f32:.{n}g}")))[0]
                             == f32)
                if short:
                    out[k] = int(short) if short.is_integer() else short
            elif v is not None:
                out[k] = colours(v)
        return out
    return value


def dig(obj: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def masked(obj: Any, mask: str | None) -> Any:
    """A partial response (`fields=sheets.properties.title,properties`): only those paths;
    objects on the way are kept, even empty."""
    if not mask:
        return obj
    paths = [f.split(".") for f in fields(mask)]

    def keep(node: Any, wanted: list[list[str]]) -> Any:
        if any(not p for p in wanted):
            return node
        if isinstance(node, list):
            return [keep(item, wanted) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for name in dict.fromkeys(p[0] for p in wanted):
            if name in node:
                out[name] = keep(node[name], [p[1:] for p in wanted if p[0] == name])
        return out
    return keep(obj, paths)
