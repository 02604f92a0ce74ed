"""Pydantic I/O of users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from evhub.auth.roles import Role

Town = Annotated[str, Field(min_length=1, max_length=100)]
# A funder's towns: required for that role, refused for the others.
Towns = Annotated[list[Town] | None, Field(default=None, max_length=200)]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: Role
    towns: Towns = None


class UserPatch(BaseModel):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    active: bool | None = None
    towns: Towns = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    active: bool
    towns: list[str] | None
    created_at: datetime
    last_login_at: datetime | None


class ApiKeyIn(BaseModel):
    name: str = Field(default="", max_length=64)
    role: Role
    towns: Towns = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: Role
    towns: list[str] | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once, store it now.")


class WhoAmI(BaseModel):
    kind: str
    id: int
    name: str
    role: Role
    towns: list[str] | None = None
