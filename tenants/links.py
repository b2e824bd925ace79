"""Absolute URLs of organizations and the public host, built from settings (not from requests)."""

from __future__ import annotations

from django.conf import settings


def host_url(domain: str) -> str:
    """`http://demo.localhost:8000` in development, `https://acme.example.com` behind TLS."""
    port = settings.PUBLIC_URL_PORT
    default_port = {"http": "80", "https": "443"}.get(settings.PUBLIC_URL_SCHEME)
    suffix = f":{port}" if port and port != default_port else ""
    return f"{settings.PUBLIC_URL_SCHEME}://{domain}{suffix}"


def public_url() -> str:
    return host_url(settings.BASE_DOMAIN)
