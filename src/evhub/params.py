"""Bounded integer types for every number a request may carry into a query.

A path id, an offset or a body field beyond what a database column holds used to reach the
driver and fail there (SQLite: `OverflowError`; asyncpg: out of int32 range) as a 500. Declaring
the bound once here makes every route answer 422 with the reason, and documents the range in
the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from fastapi import Query

# PostgreSQL INTEGER, the type of evhub's id and count columns (SQLite would hold 64 bits).
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1

DbInt = Annotated[int, Ge(DB_INT_MIN), Le(DB_INT_MAX)]
"""An integer a database column can store."""

DbId = Annotated[int, Ge(0), Le(DB_INT_MAX)]
"""A row id (path or body); ids are positive, 0 is simply never found."""

Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Rows to skip.")]
