"""schemathesis against /openapi.json of a running gateway: no 5xx, no response that
breaks the schema, with a valid admin token and without one. Bounded for CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.processes import free_port, gateway_env, gateway_process, run_cli

EXAMPLES_PER_OPERATION = 15


@schemathesis.serializer("application/toml")
def toml_body(_ctx: object, value: object) -> bytes:
    """The rules route takes a TOML file; whatever the fuzzer made, sent as its text."""
    return value.encode() if isinstance(value, str) else str(value).encode()


@pytest.fixture(scope="module")
def running_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A gateway process on its own SQLite file, with one admin; (base URL, token)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    env = gateway_env(
        f"sqlite+aiosqlite:///{workdir / 'fuzz.db'}",
        workdir,
        GATEWAY_LOG_LEVEL="WARNING",
        GATEWAY_WEBCHAT_ALLOWED_ORIGINS='["*"]',
        # Telegram on (an unconfigured webhook answers 503 on purpose, so Telegram
        # retries); its API points at a closed loopback port, nothing leaves the host.
        GATEWAY_TELEGRAM_TOKEN="123456:fuzz",
        GATEWAY_TELEGRAM_WEBHOOK_SECRET="fuzz-secret",
        GATEWAY_TELEGRAM_API_BASE="http://127.0.0.1:9/bot",
    )
    assert run_cli(["migrate"], env, workdir).returncode == 0
    created = run_cli(["agents", "create", "--name", "fuzz-admin", "--role", "admin"], env, workdir)
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    with gateway_process(env, workdir, port=port):
        yield f"http://127.0.0.1:{port}", token


@pytest.fixture(scope="module")
def api_schema(running_gateway: tuple[str, str]) -> schemathesis.BaseSchema:
    base_url, _token = running_gateway
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


def bounded(case: schemathesis.Case) -> schemathesis.Case:
    """Long polls may legally wait 60 s; the fuzzer checks answers, not patience."""
    wait = (case.query or {}).get("wait")
    try:
        too_long = wait is not None and float(wait) > 0.2
    except (TypeError, ValueError):
        too_long = False  # not a number: the server must refuse it, quickly
    if too_long:
        case.query["wait"] = 0.2  # type: ignore[index]
    return case


@schema.parametrize()
@FUZZ
def test_with_a_valid_token(case: schemathesis.Case, running_gateway: tuple[str, str]) -> None:
    _base_url, token = running_gateway
    bounded(case).call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.parametrize()
@FUZZ
def test_without_a_token(case: schemathesis.Case, running_gateway: tuple[str, str]) -> None:
    headers = dict(case.headers or {})
    headers.pop("Authorization", None)
    case.headers = headers
    bounded(case).call_and_validate(checks=[not_a_server_error, response_schema_conformance])


def test_every_route_of_the_contract_is_documented(running_gateway: tuple[str, str]) -> None:
    import httpx

    base_url, _ = running_gateway
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    for route in (
        "/healthz",
        "/metrics",
        "/channels/webchat/sessions",
        "/channels/webchat/messages",
        "/api/v1/me",
        "/api/v1/queues",
        "/api/v1/queues/{name}/tickets",
        "/api/v1/queues/{name}/claim",
        "/api/v1/claim",
        "/api/v1/tickets/{ref}",
        "/api/v1/tickets/{ref}/replies",
        "/api/v1/tickets/{ref}/notes",
        "/api/v1/tickets/{ref}/status",
        "/api/v1/tickets/{ref}/transfer",
        "/api/v1/tickets/{ref}/escalate",
        "/api/v1/tickets/{ref}/release",
        "/api/v1/tickets/{ref}/events",
    ):
        assert route in paths, route
