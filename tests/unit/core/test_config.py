from __future__ import annotations

import pytest
from pydantic import ValidationError

from hikeshi.config import DEV_SECRET, Settings


def test_default_secret_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="HIKESHI_SECRET_KEY"):
        Settings(environment="production", secret_key=DEV_SECRET)  # type: ignore[arg-type]


def test_short_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")  # type: ignore[arg-type]


def test_secret_never_prints() -> None:
    s = Settings(environment="test", secret_key="x" * 40)  # type: ignore[arg-type]
    assert "x" * 40 not in repr(s)
    assert "x" * 40 not in str(s.model_dump())


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIKESHI_SESSION_TTL_MINUTES", "30")
    assert Settings().session_ttl_minutes == 30


def test_cookie_secure_defaults_on_in_production() -> None:
    assert Settings(environment="production", secret_key="z" * 40).cookie_secure  # type: ignore[arg-type]
    assert not Settings(environment="development").cookie_secure
