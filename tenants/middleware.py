"""Access control on organization domains: every page needs a signed-in member of *that* organization."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.utils import timezone

from tenants.selectors import membership_get

# Machine-facing or sign-in paths that authenticate themselves (or need no session).
OPEN_PREFIXES = (
    "/accounts/login/",
    "/static/",
    "/hooks/",  # webhook tokens
    "/agent/",  # cluster tokens
    "/api/",  # the JSON API authenticates itself (bearer token or session): opsworker/api/auth.py
    "/bench/baseline/",  # benchmark baseline (404 unless enabled; token-checked)
    "/favicon.ico",
)

# Don't write last_seen_at on every request; once per interval is enough for "last activity".
_LAST_SEEN_RESOLUTION_SECONDS = 300


class OrganizationAccessMiddleware:
    """After authentication: attach `request.membership`, or answer login / 403 / suspended."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        request.membership = None
        if tenant is None or tenant.schema_name == "public" or request.path.startswith(OPEN_PREFIXES):
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        membership = membership_get(user=request.user, organization=tenant)
        if membership is None:
            return render(request, "errors/not_a_member.html", {"organization": tenant}, status=403)
        if not tenant.is_active:
            return render(request, "errors/suspended.html", {"organization": tenant}, status=403)
        request.membership = membership
        now = timezone.now()
        if (
            membership.last_seen_at is None
            or (now - membership.last_seen_at).total_seconds() > _LAST_SEEN_RESOLUTION_SECONDS
        ):
            membership.last_seen_at = now
            membership.save(update_fields=["last_seen_at"])
        return self.get_response(request)
