from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hikeshi.auth.enums import Department, Role


class OrgBase(BaseModel):
    slug: str = Field(min_length=2, max_length=63, examples=["acme-foods"])
    name: str = Field(min_length=1, max_length=200, examples=["アクメ食品株式会社"])


class OrgCreate(OrgBase):
    pass


class OrgPublic(OrgBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    is_active: bool
    created_at: datetime


class UserBase(BaseModel):
    email: str = Field(max_length=254)
    display_name: str = Field(max_length=200)
    role: Role
    department: Department | None = None


class UserCreate(UserBase):
    password: str = Field(min_length=10, max_length=200)


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)
    id: int
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class MePublic(BaseModel):
    kind: str
    label: str
    role: Role
    department: Department | None
    org_ids: list[int]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.operator
    expires_at: datetime | None = None


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenPublic):
    token: str = Field(description="Shown once. Only its SHA-256 is stored.")
