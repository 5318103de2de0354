"""Stub: filled in by the notify work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/orgs/{org_id}", tags=["notify"])
