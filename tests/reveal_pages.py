"""Shared assertions for pages that reveal a secret once (integrations, clusters, API tokens)."""

from __future__ import annotations

import re


def no_store(response) -> bool:
    """True when the answer tells browsers and proxies not to keep it."""
    return "no-store" in [part.strip() for part in response["Cache-Control"].split(",")]


def revealed(client, response, pattern: re.Pattern):
    """Follow a creating/rotating POST's redirect to its one-time reveal page (matching `pattern`)."""
    assert response.status_code == 302, response.content.decode()[:2000]
    assert pattern.match(response["Location"]), response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page
