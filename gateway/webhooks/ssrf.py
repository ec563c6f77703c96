"""Server-side request forgery guard: a receiver's URL must reach the public internet.

The host name is resolved and every address it gives is checked (a name with one
public and one private address is refused: the connection could go to either). The
check runs when a subscriber is registered and again before every send, so a DNS
record changed to point inside later is caught too. Redirects are never followed.
Residual risk, written down: a name re-resolved by the HTTP client between our check
and its connect (DNS rebinding within that window) is not pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

# host, port -> the addresses the name resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeTarget(Exception):
    """The URL may not be called: bad form, or it reaches a non-public address."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def parse_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL without credentials; UnsafeTarget otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must be http:// or https://")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not accepted; use the signature")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: str) -> bool:
    """Whether an address is globally routable (not loopback, link-local, private,
    shared, reserved, multicast or unspecified); IPv4-mapped IPv6 is judged as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """Raise UnsafeTarget unless every address of the URL's host is public (or private
    targets are allowed). A name that does not resolve is refused too."""
    host, port = parse_target(url)
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except OSError as exc:
            raise UnsafeTarget(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        if not is_public(address):
            raise UnsafeTarget(
                f"{host} resolves to {address}, which is not a public address "
                "(set GATEWAY_WEBHOOKS_ALLOW_PRIVATE=true to allow private receivers)"
            )
