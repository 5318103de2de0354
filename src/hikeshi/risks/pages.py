"""Stub: web pages of risks."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
