"""REST shapes of drivers and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evhub.params import DbInt

TokenStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]
TokenType = Literal[
    "ISO14443", "ISO15693", "Central", "eMAID", "KeyCode", "Local", "MacAddress", "NoAuthorization"
]
UserGroup = Literal["visitor", "resident", "fleet", "staff"]


class DriverIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    user_group: UserGroup = "visitor"


class DriverOut(DriverIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime


class TokenIn(BaseModel):
    uid: str = Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:\-]+$")
    type: TokenType = "ISO14443"
    driver_id: DbInt | None = None
    status: TokenStatus = "Accepted"
    group_id: str | None = Field(default=None, max_length=36)
    expires_at: datetime | None = None


class TokenOut(TokenIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    created_at: datetime


class TokenPatch(BaseModel):
    status: TokenStatus


class AuthorizationOut(BaseModel):
    status: str
    reason: str
