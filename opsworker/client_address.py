"""The client's address: `REMOTE_ADDR`, taken from X-Forwarded-For only when a trusted proxy sent it.

Anyone can send an X-Forwarded-For header, so believing it from anywhere lets a client choose the
address that sign-in throttling and the audit log see (a rotating header walked around the
throttle). This middleware runs first: when the direct peer is in OPSWORKER_TRUSTED_PROXIES (a
comma-separated list of addresses or CIDR ranges, empty by default), the client is the rightmost
X-Forwarded-For entry that is not itself a trusted proxy (entries to its left were written by the
client and prove nothing); otherwise the header is ignored. Everything else reads `REMOTE_ADDR`.
`python -m opsworker.serve` turns uvicorn's own forwarded-header handling off, so this is the
only place that decides.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"OPSWORKER_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR range"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The address to believe: `peer`, or the nearest untrusted hop named by trusted proxies."""
    if not networks or not forwarded_for or not _trusted(_address(peer), networks):
        return peer
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            return peer  # a garbled chain: believe only what we saw
        if not _trusted(address, networks):
            return str(address)
    return peer


class ClientAddressMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Parse now so a bad OPSWORKER_TRUSTED_PROXIES stops start-up instead of answering 500 to
        # every request (the per-request lookup below is then a cache hit).
        trusted_networks(tuple(settings.TRUSTED_PROXIES))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
        peer = request.META.get("REMOTE_ADDR") or ""
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        request.META["REMOTE_ADDR"] = client_address(peer, forwarded, networks)
        return self.get_response(request)
