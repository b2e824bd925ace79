"""`Table` answers for kubectl (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`).

Columns follow the API server's printers (printers/) for the kinds an investigation looks at;
other kinds get NAME and AGE. Ages count back from the scenario's capture time, not the wall clock,
so a frozen scenario reads as it did when captured ("9 (3m ago)").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .kinds import Kind
from .printers import DEFAULT_PRINTER, PRINTERS

Obj = dict[str, Any]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def table(
    kind: Kind, objects: list[Obj], serve: Callable[[Obj], Obj], now: datetime, include: str, list_meta: Obj
) -> Obj:
    """A meta.k8s.io/v1 Table of stored `objects`; `serve` gives the requested version for `object`."""
    columns, row = PRINTERS.get(kind.kind, DEFAULT_PRINTER)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {
                "name": name,
                "type": "string",
                "format": "name" if name == "Name" else "",
                "description": "",
                "priority": priority,
            }
            for name, priority in columns
        ],
        "rows": [{"cells": row(obj, now), "object": _row_object(serve(obj), include)} for obj in objects],
    }


def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata")}
