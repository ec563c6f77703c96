"""All configuration, from GATEWAY_* environment variables and a `.env` file.

Variables are flat (`GATEWAY_SMTP_RELAY_HOST`) but land in one sub-model per concern
(`settings.smtp.relay_host`): the first word after the prefix names the sub-model.
Only `Settings()` reads the environment; everything else takes a Settings instance.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_LANGUAGES = "en,zh,ru,uk,vi,id,ms,tr,es,pt,fr,de,ar,hi,ja,ko,th,tl,fa,ur"


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./parley.db"
    pool_size: int = 10
    echo: bool = False


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    # Any request body past this is refused with 413 before it is read into memory.
    max_body_bytes: int = 16 * 1024 * 1024


class SmtpSettings(BaseModel):
    """Inbound listener (host/port, port 0 = off) and the outbound relay."""

    host: str = "127.0.0.1"
    port: int = 2525
    max_message_bytes: int = 25 * 1024 * 1024
    relay_host: str | None = None
    relay_port: int = 25
    relay_username: str | None = None
    relay_password: SecretStr | None = None
    relay_starttls: bool = False
    relay_timeout: float = 30.0


class MailSettings(BaseModel):
    from_address: str = Field("support@localhost", alias="from")


class ImapSettings(BaseModel):
    """Optional IMAP poller for desks that read an existing mailbox (off until host set)."""

    host: str | None = None
    port: int = 993
    ssl: bool = True
    username: str | None = None
    password: SecretStr | None = None
    mailbox: str = "INBOX"
    poll_seconds: float = 30.0


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    api_base: str = "https://api.telegram.org/bot"
    api_file_base: str | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    max_file_bytes: int = 20 * 1024 * 1024
    start_secret: SecretStr | None = None
    # Telegram's documented limits, held across every gateway process together.
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    # Lifetime of a signed `/start` token the exchange hands out (seconds).
    start_token_ttl_seconds: int = 7 * 24 * 3600
    # Long-poll wait of getUpdates in polling mode.
    polling_timeout_seconds: int = 25
    # How often attachments left pending by a crash are fetched again.
    attachment_sweep_seconds: float = 60.0
    max_update_bytes: int = 1024 * 1024


class WebchatSettings(BaseModel):
    """The widget's channel. `allowed_origins`: pages that may embed the widget; empty
    means the gateway's own origin only, `["*"]` means any origin."""

    secret: SecretStr | None = None
    identity_secret: SecretStr | None = None
    require_identity: bool = False
    allowed_origins: list[str] = Field(default_factory=list)
    session_ttl_seconds: int = 7 * 24 * 3600
    max_message_chars: int = 4000
    messages_per_minute: int = 30
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments_per_message: int = 5
    # A reply the visitor has not received this long after it was sent also goes to the
    # email address they left, when the email channel is configured (0 = never).
    email_copy_after_seconds: int = 120


class BlobSettings(BaseModel):
    dir: Path = Path("./blobs")


class QueueSettings(BaseModel):
    """Agent work: claim leases and SLA clocks."""

    claim_lease_seconds: int = 15 * 60
    # Most tickets a new agent holds at once, unless created with another capacity.
    default_capacity: int = 10


class OutboxSettings(BaseModel):
    lease_seconds: int = 60
    # Files an agent attaches to a reply (each; base64 in the JSON body).
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 5
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 600.0
    poll_seconds: float = 1.0
    batch_size: int = 50


class SlaSettings(BaseModel):
    """The SLA worker (policies, calendars and the matrix live in the rules file)."""

    # How often the worker looks for tickets whose next SLA moment has come; a breach is
    # acted on within this much of its due time.
    poll_seconds: float = 5.0
    batch_size: int = 100


class IngestSettings(BaseModel):
    max_text_chars: int = 100_000
    max_sender_chars: int = 320
    max_external_id_chars: int = 998


class RoutingSettings(BaseModel):
    """Language detection and severity thresholds (rules themselves live in the database)."""

    languages: str = DEFAULT_LANGUAGES
    # Below this lingua confidence (a language group's members summed) the language is
    # "unknown"; 0.25 keeps >= 95 % accuracy on five-word messages (bench/routing.py).
    min_confidence: float = 0.25
    # lingua's low accuracy mode: ~25 MB instead of ~360 MB, worse on short text.
    low_accuracy: bool = False
    high_amount_usd: Decimal = Decimal("1000")
    critical_amount_usd: Decimal = Decimal("10000")
    rules_file: Path | None = None


class ExchangeSettings(BaseModel):
    """Pulling order facts from the exchange (off until `order_url` is set).

    `order_url` contains `{order_ref}`; requests are signed with `order_secret`
    (see gateway/orders/pull.py); answers are reused for `order_cache_seconds`.
    """

    order_url: str | None = None
    order_secret: SecretStr | None = None
    order_timeout_seconds: float = 5.0
    order_cache_seconds: float = 60.0


class CasesSettings(BaseModel):
    """Dispute cases: appeal window after a decision, default evidence deadline."""

    appeal_window_seconds: int = 72 * 3600
    evidence_deadline_seconds: int = 24 * 3600
    # Longest deadline an agent may set on an evidence request.
    max_evidence_deadline_seconds: int = 30 * 24 * 3600
    # A Unicode TrueType font for the export pack's PDF transcript (Debian's
    # fonts-dejavu-core); without it the PDF falls back to Latin-1 text.
    pdf_font: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class ConsoleSettings(BaseModel):
    """The agent console at /console."""

    # A signed-in browser lasts one long shift, then signs in again.
    session_seconds: int = 12 * 3600
    link_seconds: int = 15 * 60
    # How long "claim next" waits for a ticket before saying none came.
    claim_wait_seconds: float = 25.0


class LogSettings(BaseModel):
    level: str = "INFO"
    json_format: bool = Field(True, alias="json")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    smtp: SmtpSettings = SmtpSettings()
    mail: MailSettings = MailSettings()
    imap: ImapSettings = ImapSettings()
    telegram: TelegramSettings = TelegramSettings()
    webchat: WebchatSettings = WebchatSettings()
    blob: BlobSettings = BlobSettings()
    queue: QueueSettings = QueueSettings()
    outbox: OutboxSettings = OutboxSettings()
    sla: SlaSettings = SlaSettings()
    ingest: IngestSettings = IngestSettings()
    routing: RoutingSettings = RoutingSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    cases: CasesSettings = CasesSettings()
    console: ConsoleSettings = ConsoleSettings()
    log: LogSettings = LogSettings()
