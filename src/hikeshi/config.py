"""Typed settings read from ``HIKESHI_*`` environment variables.

Secrets are ``SecretStr`` so they never print, and the development defaults are refused
outside ``environment=development`` (the template's ``_enforce_non_default_secrets`` idea).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "changethis-dev-only"  # noqa: S105 - the sentinel that production refuses

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HIKESHI_", env_file=None, extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in data_dir.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL; when set, live events fan out across processes via pub/sub.",
    )
    redis_events_channel: str = Field(
        default="hikeshi:live-events",
        min_length=1,
        description="Pub/sub channel; give each deployment sharing a Redis server its own.",
    )
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    session_cookie_name: str = "hikeshi_session"
    session_cookie_secure: bool | None = Field(
        default=None, description="Secure flag on the cookie; default on outside development."
    )
    session_ttl_minutes: int = Field(default=12 * 60, ge=5, le=7 * 24 * 60)
    run_worker_in_server: bool = True
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    job_lease_seconds: int = Field(default=60, ge=5)
    # Department notifications (連絡体制): real SMTP and Slack/Teams incoming webhooks.
    smtp_host: str | None = Field(default=None, description="SMTP server; unset = email off")
    smtp_port: int = 25
    smtp_from: str = "hikeshi@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Public pages (お知らせ, 対象製品の確認): per-client-address limit on serial checks.
    serial_check_per_minute: int = Field(default=10, ge=1)
    # Sign-in attempts per client address and e-mail in 5 minutes (slows password guessing).
    login_attempts_per_5_minutes: int = Field(default=10, ge=1)
    # Single-contact intake: concurrent requests share one transaction (group commit).
    intake_max_batch: int = Field(default=500, ge=1, le=10_000)
    intake_writers: int = Field(default=2, ge=1, le=16)
    # A verified API token is trusted for this long before it is looked up again, so a revoked
    # token stops working within this many seconds on every server.
    api_token_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    public_base_url: str = "http://127.0.0.1:8000"
    # Extra playbook pack directories, searched after the shipped packs (os.pathsep-separated).
    playbook_dirs: str = ""
    log_json: bool = True
    log_level: str = "INFO"
    timezone: str = "Asia/Tokyo"

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> Settings:
        if self.environment != "development" and (
            self.secret_key.get_secret_value() == DEV_SECRET
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise ValueError(
                "HIKESHI_SECRET_KEY must be set to a random value of at least 32 characters "
                f"outside development (environment={self.environment})"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hikeshi.sqlite3').resolve()}"

    @property
    def cookie_secure(self) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
