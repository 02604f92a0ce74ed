"""Configuration from environment variables (EVHUB_*), with embedded defaults.

The default database is SQLite under ./var so that a fresh checkout runs with no server.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVHUB_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/evhub.sqlite3",
        description="SQLAlchemy async URL; sqlite+aiosqlite (embedded) or postgresql+asyncpg.",
    )
    host: str = "127.0.0.1"
    port: int = 8180
    heartbeat_interval_s: int = Field(default=300, ge=10)
    ocpp_response_timeout_s: float = Field(default=30.0, gt=0)
    log_level: str = "info"
    var_dir: Path = Path("./var")
    # Security profile 1 (Basic auth over ws). Profile 2 (wss) is terminated by uvicorn's TLS.
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


def load_settings() -> Settings:
    return Settings()
