"""Settings from the environment and `.env`; names are fixed so operators can rely on them."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG_DIR = PROJECT_ROOT / "demo" / "khanh_hoa"
# The demo's bot name in invitation links when TELEGRAM_BOT_USERNAME is not set (demo only).
DEMO_BOT_USERNAME = "HoiLHPN_BaoCao_bot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./hoibot.db"
    # Folder of the operator's YAML files (indicators, forms, targets, terms).
    hoibot_config_dir: Path = DEMO_CONFIG_DIR
    timezone: str = "Asia/Ho_Chi_Minh"

    telegram_bot_token: SecretStr | None = None
    telegram_api_base: str | None = None
    telegram_bot_username: str | None = None  # for invitation deep links (t.me/<name>)
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    zalo_bot_token: SecretStr | None = None
    zalo_api_base: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None

    # Pace of unasked messages (reminders, digests) per channel; Telegram allows ~30/s overall
    # and ~1/s per chat. A Zalo free plan may cap the messages of a month.
    telegram_rate_per_second: float | None = 30.0
    telegram_rate_per_chat_seconds: float = 1.0
    zalo_rate_per_second: float | None = 10.0
    zalo_rate_per_chat_seconds: float = 1.0
    zalo_monthly_cap: int | None = None
    reminder_check_minutes: int = 5
    reminders_enabled: bool = True
    # How often kept thi đua rankings with new reports under them are recomputed (0: never;
    # they are then computed by the first view of each day).
    thi_dua_refresh_minutes: int = 5

    public_base_url: str | None = None
    files_dir: Path = Path("exports")  # generated charts and workbooks behind signed links
    file_link_hours: int = 24
    file_link_secret: SecretStr | None = None  # default: derived from the bot tokens
    web_link_hours: int = 72  # links to the tracker pages (/web)
    web_host: str = "0.0.0.0"
    web_port: int = 8080

    # Pretend the time is this (ISO 8601, with offset): for demos and tests, never production.
    # The clock starts there and runs on in real time.
    hoibot_now: datetime | None = None
    # A worker silent this long is dead: what it was handling or sending goes to the others.
    worker_timeout_seconds: float = 15.0
    # The plain answer (a typed answer to the question asked) on its own statements, "sent"
    # recorded with the next turn (#25); off: every update takes the general path.
    plain_answer_path: bool = True
    # A send not answered within this is retried (a long poll has its own, longer, limit).
    send_timeout_seconds: float = 20.0
    # Zalo's 429 ("quota exceeded") gives no retry-after: wait this long.
    zalo_quota_retry_seconds: float = 600.0

    invitation_days: int = Field(default=30, ge=1, description="How long an invitation is valid")
    # Decree 13/2023/NĐ-CP: texts of delivered messages, ids of handled updates and expired
    # invitations are pruned after this many days (storage/db/personal_data/retention.py).
    personal_data_retention_days: int = Field(default=90, ge=1)


def file_secret(settings: Settings) -> bytes:
    """The key that signs file links: set it, or it is derived from the tokens (so links
    survive a restart); with neither, a random one (links die with the process)."""
    import hashlib
    import secrets

    if settings.file_link_secret:
        return settings.file_link_secret.get_secret_value().encode()
    tokens = [
        t.get_secret_value()
        for t in (settings.zalo_bot_token, settings.telegram_bot_token)
        if t is not None
    ]
    if tokens:
        return hashlib.sha256(("hoibot-files|" + "|".join(tokens)).encode()).digest()
    return secrets.token_bytes(32)


def webhook_secret(configured: SecretStr | None, token: SecretStr | None) -> str:
    """The secret a webhook checks: the configured one, or one derived from the bot's token
    (stable across restarts, unguessable without the token; letters and digits, as both
    platforms accept)."""
    import hashlib
    import secrets

    if configured:
        return configured.get_secret_value()
    if token is None:
        return secrets.token_hex(32)
    return hashlib.sha256(("hoibot-webhook|" + token.get_secret_value()).encode()).hexdigest()


@lru_cache
def get_settings() -> Settings:
    return Settings()
