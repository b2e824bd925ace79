"""Secrets shown once, with post/redirect/get.

The POST that makes a secret (a webhook URL token, a cluster token, an API token) stashes it in the
session under a random key bound to the organization, the kind of object and its id, and redirects
to a GET "reveal" page. That page pops it: the first GET shows it, a reload or the Back button finds
it already shown (never a second object), and no other session, object or organization finds it at
all (404). The stash is encrypted with `tenants.secret_box`, so the session row never holds the
plaintext, and an unrevealed secret is dropped after a few minutes.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from typing import Any

from django.http import Http404, HttpRequest

from tenants.secret_box import SecretUnreadable, decrypt, encrypt

logger = logging.getLogger(__name__)

SESSION_KEY = "opsworker_secret_reveals"
PENDING_SECONDS = 15 * 60  # a secret not revealed by then is dropped (rotate for a new one)
SHOWN_SECONDS = 60 * 60  # a reload within this time says "already shown" instead of 404
MAX_ENTRIES = 20  # per session; the oldest go first


@dataclasses.dataclass(frozen=True)
class Reveal:
    """What a reveal page shows: the secret on the first GET, else `secret == ""` (already shown)."""

    secret: str
    extra: dict[str, Any]

    @property
    def shown_before(self) -> bool:
        return not self.secret


def _binding(request: HttpRequest, kind: str, object_id: int | str) -> list[str]:
    user_id = getattr(request.user, "pk", None)
    return [request.tenant.schema_name, kind, str(object_id), str(user_id)]


def _entries(request: HttpRequest, now: float) -> dict[str, dict[str, Any]]:
    """The session's reveals, without the expired ones."""
    entries = request.session.get(SESSION_KEY) or {}
    return {
        key: entry
        for key, entry in entries.items()
        if isinstance(entry, dict)
        and now - entry.get("at", 0) < (PENDING_SECONDS if entry.get("secret") else SHOWN_SECONDS)
    }


def secret_stash(
    request: HttpRequest,
    *,
    kind: str,
    object_id: int | str,
    secret: str,
    extra: dict[str, Any] | None = None,
) -> str:
    """Keep `secret` for one reveal by this session; return the key for the reveal page's URL.

    `extra` holds non-secret display values (e.g. `{"rotated": True}`); it must be JSON-serializable.
    """
    now = time.time()
    entries = _entries(request, now)
    key = secrets.token_urlsafe(16)
    entries[key] = {
        "bind": _binding(request, kind, object_id),
        "secret": encrypt(secret),
        "extra": extra or {},
        "at": now,
    }
    newest = sorted(entries.items(), key=lambda item: item[1]["at"])[-MAX_ENTRIES:]
    request.session[SESSION_KEY] = dict(newest)
    logger.info("tenants.secret_reveal.stashed", extra={"kind": kind, "object_id": str(object_id)})
    return key


def secret_reveal(request: HttpRequest, *, key: str, kind: str, object_id: int | str) -> Reveal:
    """Pop the secret stashed under `key` for this object: returned once, then `""`.

    Raises Http404 when this session holds no such key for this organization, kind and object.
    """
    now = time.time()
    entries = _entries(request, now)
    entry = entries.get(key)
    if entry is None or entry.get("bind") != _binding(request, kind, object_id):
        raise Http404("nothing to reveal here")
    secret = ""
    if entry.get("secret"):
        try:
            secret = decrypt(entry["secret"])
        except SecretUnreadable:  # encryption keys changed in between: treat as gone
            secret = ""
        # From now on only the fact that it was shown remains (for the "already shown" page).
        entries[key] = {**entry, "secret": "", "at": now}
        logger.info("tenants.secret_reveal.revealed", extra={"kind": kind, "object_id": str(object_id)})
    request.session[SESSION_KEY] = entries
    return Reveal(secret, dict(entry.get("extra") or {}))
