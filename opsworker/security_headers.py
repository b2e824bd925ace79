"""Response headers every dynamic answer carries: a Content-Security-Policy, and no-store on private ones.

The policy allows scripts only from our own origin (`script-src 'self'`): templates have no inline
scripts or event-handler attributes (behaviour is declared with data attributes and handled by
`static/js/`), and a test walks the templates to keep it so. Styles keep `'unsafe-inline'`:
templates use `style=` attributes, and htmx injects its indicator style; inline CSS cannot run code.

Pages of a signed-in member and every API answer say `Cache-Control: no-store`, so a shared
computer's back button or a proxy never serves one person's alerts to another. Static files
(fingerprinted, cached for a year by WhiteNoise) and the probes answered before this middleware
(`/healthz`, `/readyz`, `/metrics`) are left alone.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        # 'self' covers the same host's ws:// and wss:// (the live pages' sockets).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)


def _is_private(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return response
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        if _is_private(request):
            add_never_cache_headers(response)
        return response
