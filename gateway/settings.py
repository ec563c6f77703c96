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
    """Where the data lives. On PostgreSQL one process holds at most
    `pool_size + max_overflow` query connections plus one LISTEN connection."""

    # SQLAlchemy async URL (`postgresql+asyncpg://user@host/db` in production).
    url: str = "sqlite+aiosqlite:///./parley.db"
    # PostgreSQL connections a process keeps open.
    pool_size: int = Field(10, ge=1)
    # More connections a process may open under load, on top of the pool.
    max_overflow: int = Field(10, ge=0)
    # How long a request waits for a free pooled connection before it fails.
    pool_timeout_seconds: float = Field(30.0, gt=0)
    # A direct (session) PostgreSQL URL for LISTEN/NOTIFY wake-ups, for when `url` goes
    # through a transaction-pooling PgBouncer, which cannot hold a LISTEN; unset = `url`.
    listen_url: str | None = None
    # `url` goes through a PgBouncer in transaction mode: no prepared-statement cache and
    # a unique name per statement, since consecutive transactions may run on different
    # server connections. Set `listen_url` to a direct connection too.
    transaction_pooling: bool = False
    # Log every SQL statement (debugging only).
    echo: bool = False


class HttpSettings(BaseModel):
    # Address the HTTP listener binds.
    host: str = "127.0.0.1"
    # Port of the HTTP listener.
    port: int = 8000
    # Any request body past this is refused with 413 before it is read into memory.
    max_body_bytes: int = 16 * 1024 * 1024
    # Where others reach this gateway (links in surveys, attachment URLs in webhooks);
    # defaults to http://host:port.
    public_url: str | None = None
    # How long an API token is remembered without a database read (seconds, 0 = never);
    # any agent change clears it at once in every process (on SQLite: in this one).
    auth_cache_seconds: float = 5.0

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class SmtpSettings(BaseModel):
    """Inbound listener (host/port, port 0 = off) and the outbound relay."""

    # Address the inbound SMTP listener binds.
    host: str = "127.0.0.1"
    # Port of the inbound SMTP listener (0 = no listener).
    port: int = 2525
    # Larger mails are refused with 552.
    max_message_bytes: int = 25 * 1024 * 1024
    # Outbound relay for replies; until set, email replies wait in the outbox.
    relay_host: str | None = None
    # Port of the outbound relay.
    relay_port: int = 25
    # Login at the relay, when it needs one.
    relay_username: str | None = None
    # Password at the relay.
    relay_password: SecretStr | None = None
    # Upgrade the relay connection with STARTTLS.
    relay_starttls: bool = False
    # Seconds before a relay connection or command gives up (the reply is retried).
    relay_timeout: float = 30.0


class MailSettings(BaseModel):
    # From: address of email replies (its domain also carries the `+D-n` reply address).
    from_address: str = Field("support@localhost", alias="from")


class ImapSettings(BaseModel):
    """Optional IMAP poller for desks that read an existing mailbox (off until host set)."""

    # IMAP server of a mailbox to read (off until set).
    host: str | None = None
    # IMAP port.
    port: int = 993
    # Implicit TLS (IMAPS).
    ssl: bool = True
    # Mailbox login.
    username: str | None = None
    # Mailbox password.
    password: SecretStr | None = None
    # Folder to read.
    mailbox: str = "INBOX"
    # Seconds between polls.
    poll_seconds: float = 30.0


class TelegramSettings(BaseModel):
    # Bot token from @BotFather; until set the webhook answers 503 (Telegram retries)
    # and replies wait in the outbox.
    token: SecretStr | None = None
    # Expected X-Telegram-Bot-Api-Secret-Token, checked in constant time before parsing.
    webhook_secret: SecretStr | None = None
    # Bot API base URL, as python-telegram-bot's `base_url` (tests point it at loopback).
    api_base: str = "https://api.telegram.org/bot"
    # Bot API file download base URL (unset = Telegram's, derived from `api_base`).
    api_file_base: str | None = None
    # `webhook` (Telegram posts to /channels/telegram/webhook), or `polling` for
    # development (its offset kept in the database).
    mode: Literal["webhook", "polling"] = "webhook"
    # Larger files are recorded as `too_large` instead of fetched.
    max_file_bytes: int = 20 * 1024 * 1024
    # Key the exchange signs `/start <token>` account links with (links off until set).
    start_secret: SecretStr | None = None
    # Messages a second in total (Telegram allows 30), held by every gateway process
    # together through the database.
    global_per_second: float = 30.0
    # Messages a second to one chat (Telegram allows 1), across every process.
    per_chat_per_second: float = 1.0
    # Lifetime of a signed `/start` token the exchange hands out (seconds).
    start_token_ttl_seconds: int = 7 * 24 * 3600
    # Long-poll wait of getUpdates in polling mode (seconds).
    polling_timeout_seconds: int = 25
    # How often attachments left pending by a crash are fetched again (seconds).
    attachment_sweep_seconds: float = 60.0
    # Larger webhook bodies are refused (413).
    max_update_bytes: int = 1024 * 1024


class WebchatSettings(BaseModel):
    """The widget's channel. `allowed_origins`: pages that may embed the widget; empty
    means the gateway's own origin only, `["*"]` means any origin."""

    # Signs visitors' session tokens (unset: generated on first start, stored in the
    # database, shared by every process).
    secret: SecretStr | None = None
    # The exchange sends `user_hash` = hex HMAC-SHA256(secret, user_id) (unset: user_id
    # ignored).
    identity_secret: SecretStr | None = None
    # Refuse sessions without a verified exchange user.
    require_identity: bool = False
    # JSON list of page origins that may embed the widget (`[]` = the gateway's own
    # origin, `["*"]` = any).
    allowed_origins: list[str] = Field(default_factory=list)
    # Lifetime of a visitor's session token (seconds).
    session_ttl_seconds: int = 7 * 24 * 3600
    # Longest chat message a visitor may send.
    max_message_chars: int = 4000
    # Messages a visitor may send a minute (per process).
    messages_per_minute: int = 30
    # Largest file a visitor may upload.
    max_attachment_bytes: int = 10 * 1024 * 1024
    # Files one visitor message may carry.
    max_attachments_per_message: int = 5
    # A reply the visitor has not received this long after it was sent also goes to the
    # email address they left, when the email channel is configured (0 = never).
    email_copy_after_seconds: int = 120


class BlobSettings(BaseModel):
    # Attachment bytes and raw mails (content-addressed files).
    dir: Path = Path("./blobs")


class QueueSettings(BaseModel):
    """Agent work: claim leases and SLA clocks."""

    # A claim left untouched this long while the customer still waits for a first
    # answer goes back to the queue (seconds).
    claim_lease_seconds: int = 15 * 60
    # Most tickets a new agent holds at once, unless created with another capacity.
    default_capacity: int = 10


class OutboxSettings(BaseModel):
    # How long a worker owns a reply it is sending (seconds).
    lease_seconds: int = 60
    # Largest file an agent attaches to a reply (base64 in the JSON body).
    max_attachment_bytes: int = 10 * 1024 * 1024
    # Files one reply may carry.
    max_attachments: int = 5
    # Delivery attempts before a reply is dead and its ticket flagged.
    max_attempts: int = 8
    # Retry backoff base: base·2^(n-1) seconds, capped, half of it random.
    backoff_base_seconds: float = 2.0
    # Longest retry backoff (seconds).
    backoff_cap_seconds: float = 600.0
    # How often an idle worker looks for due replies besides its wake-ups (seconds).
    poll_seconds: float = 1.0
    # Replies a worker leases at once.
    batch_size: int = 50
    # Batches a worker sends side by side, each with its own relay connection (email).
    # 1 is safe with any relay; raise it where the relay accepts that many connections
    # from one sender (a local Postfix, a provider's documented limit).
    concurrent_batches: int = Field(1, ge=1, le=32)


class SlaSettings(BaseModel):
    """The SLA worker (policies, calendars and the matrix live in the rules file)."""

    # How often the SLA worker looks for tickets whose next SLA moment has come; a breach
    # is acted on within this much of its due time (seconds).
    poll_seconds: float = 5.0
    # Tickets the SLA worker handles before it looks again without waiting.
    batch_size: int = 100


class WebhooksSettings(BaseModel):
    """Signed outbound webhooks."""

    # Let a receiver's URL resolve to loopback, link-local or private addresses (tests,
    # a desk on one private network); off, such URLs are refused (SSRF).
    allow_private: bool = False
    # Time allowed for one webhook request (seconds).
    timeout_seconds: float = 10.0
    # Attempts before a webhook delivery is dead.
    max_attempts: int = 10
    # Webhook retry backoff base: base·2^(n-1) seconds, capped, half of it random.
    backoff_base_seconds: float = 5.0
    # Longest webhook retry backoff (seconds).
    backoff_cap_seconds: float = 3600.0
    # Longest Retry-After a receiver's 429 or 5xx is honoured for (seconds).
    max_retry_after_seconds: float = 6 * 3600.0
    # After a secret rotation the old secret still signs (a second v1) this long (seconds).
    rotation_grace_seconds: int = 24 * 3600
    # How long a worker owns a webhook delivery it is sending (seconds).
    lease_seconds: int = 60
    # Webhook deliveries a worker leases at once.
    batch_size: int = 20


class CsatSettings(BaseModel):
    """Customer satisfaction surveys sent when a ticket is resolved."""

    # Ask the customer for a rating when a ticket is resolved.
    enabled: bool = True
    # No second survey to the same customer within this long of the last one (seconds).
    quiet_seconds: int = 7 * 24 * 3600
    # How long a survey (its links, buttons and card) can be answered (seconds).
    link_ttl_seconds: int = 14 * 24 * 3600
    # Signs the one-click rating links; generated and stored on first use when unset.
    secret: SecretStr | None = None
    # Longest comment kept with a rating (characters).
    max_comment_chars: int = 2000
    # After a Telegram rating, the customer's next text message within this long is the
    # survey's comment rather than a ticket message (seconds; 0 = no comment asked).
    comment_window_seconds: int = 600


class IngestSettings(BaseModel):
    # Longest message text accepted (also for replies).
    max_text_chars: int = 100_000
    # Longest sender address accepted.
    max_sender_chars: int = 320
    # Longest source message id accepted.
    max_external_id_chars: int = 998


class RoutingSettings(BaseModel):
    """Language detection and severity thresholds (rules themselves live in the database)."""

    # Languages the detector chooses from (ISO 639-1, comma-separated).
    languages: str = DEFAULT_LANGUAGES
    # Below this lingua confidence (a language group's members summed) the language is
    # "unknown" and the ticket goes to the default queue; 0.25 keeps >= 95 % accuracy on
    # five-word messages (bench/routing.py).
    min_confidence: float = 0.25
    # lingua's low accuracy mode, with the desk's own n-gram model voting on Latin-letter
    # text: about 30 MB instead of about 430 MB for the full models; language wrong 0.9 %
    # on the routing dev set's held-out split (`gateway routing eval`).
    low_accuracy: bool = True
    # A stated amount from this many USD raises severity to high.
    high_amount_usd: Decimal = Decimal("1000")
    # A stated amount from this many USD raises severity to critical.
    critical_amount_usd: Decimal = Decimal("10000")
    # The default file for `gateway rules load`.
    rules_file: Path | None = None
    # "model": the shipped triage model; "phrases": the phrase lists alone (the baseline).
    classifier: Literal["model", "phrases"] = "model"
    # Below this confidence a decision is weak: the ticket goes to the rules' triage
    # queue (when they name one) and the next message routes it again.
    triage_confidence: float = 0.4


class ExchangeSettings(BaseModel):
    """Pulling order facts from the exchange (off until `order_url` is set).

    `order_url` contains `{order_ref}`; requests are signed with `order_secret`
    (see gateway/orders/pull.py); answers are reused for `order_cache_seconds`.
    """

    # URL of the exchange's order endpoint with `{order_ref}` in it (order pulls off
    # until set).
    order_url: str | None = None
    # Key the order requests are signed with (see gateway/orders/pull.py).
    order_secret: SecretStr | None = None
    # Seconds before an order request gives up.
    order_timeout_seconds: float = 5.0
    # How long an order answer is reused (seconds).
    order_cache_seconds: float = 60.0


class CasesSettings(BaseModel):
    """Dispute cases: appeal window after a decision, default evidence deadline."""

    # How long after a decision a party may appeal (seconds).
    appeal_window_seconds: int = 72 * 3600
    # Default deadline of an evidence request (seconds).
    evidence_deadline_seconds: int = 24 * 3600
    # Longest deadline an agent may set on an evidence request.
    max_evidence_deadline_seconds: int = 30 * 24 * 3600
    # A Unicode TrueType font for the export pack's PDF transcript (Debian's
    # fonts-dejavu-core); without it the PDF falls back to Latin-1 text.
    pdf_font: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class ReportsSettings(BaseModel):
    """Loss reports: the currency every case's loss figures are converted into."""

    # Currency loss figures are reported in (ISO 4217), converted at the rates loaded by
    # `gateway rates load`; a decision whose order currency has no rate into it is a 422.
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")


class RiskSettings(BaseModel):
    """Suspicious-account signals, the risk queue and where risk reports go."""

    # The queue risk tickets and disputes against risky counterparties go to (created on
    # first use).
    queue: str = "risk"
    # A dispute whose counterparty scores at least this goes to the risk queue, severity
    # at least high (0 = off).
    route_threshold: float = 50.0
    # The risk list and the routing threshold count disputes within this many days.
    window_days: int = Field(30, ge=1, le=3650)
    # A repeat-dispute or many-complainants signal needs this share of the account's
    # orders in the window disputed (a heavy honest trader has many disputes, few per order).
    min_dispute_rate: float = Field(0.10, ge=0, le=1)
    # Third-party payments, flagged remarks and chargebacks count once they are this share
    # of the account's buys (a heavy honest trader meets each now and then).
    min_share: float = Field(0.05, ge=0, le=1)
    # This many disputes within `burst_hours` are a burst (an account takeover's pattern).
    burst_disputes: int = Field(4, ge=2)
    # The burst window (hours).
    burst_hours: int = Field(24, ge=1)
    # Words in a transfer remark that a bank reads as crypto or fraud (comma-separated,
    # matched case-insensitively as substrings).
    sensitive_words: str = "usdt,btc,bitcoin,crypto,binance,p2p,refund,loan,gift,scam"
    # Each dismissal of a report multiplies the weights of the signals it dismissed by this.
    dismiss_factor: float = Field(0.5, ge=0, le=1)
    # Where a risk report is mailed when no webhook subscribes to risk.report_created
    # (unset: the report stays on its risk ticket only).
    report_email: str | None = None


class ConsoleSettings(BaseModel):
    """The agent console at /console."""

    # A signed-in browser lasts one long shift, then signs in again.
    session_seconds: int = 12 * 3600
    # Lifetime of a one-time console sign-in link (seconds).
    link_seconds: int = 15 * 60
    # How long "claim next" waits for a ticket before saying none came.
    claim_wait_seconds: float = 25.0


class LogSettings(BaseModel):
    # Log level (DEBUG, INFO, WARNING, ERROR).
    level: str = "INFO"
    # JSON lines (true) or readable key=value text (false).
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
    webhooks: WebhooksSettings = WebhooksSettings()
    csat: CsatSettings = CsatSettings()
    routing: RoutingSettings = RoutingSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    cases: CasesSettings = CasesSettings()
    reports: ReportsSettings = ReportsSettings()
    risk: RiskSettings = RiskSettings()
    console: ConsoleSettings = ConsoleSettings()
    log: LogSettings = LogSettings()
