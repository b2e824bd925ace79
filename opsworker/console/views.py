"""The Settings hub: identity and members (tenants), models, Slack, and the pipeline self-check.

It lives above every feature app because it shows them side by side; each card links to the
feature's own pages, which stay in their apps.
"""

from __future__ import annotations

from django.shortcuts import render

from investigations.selectors import pipeline_checks_recent
from tenants.permissions import require
from tenants.roles import Capability
from tenants.selectors import members_of


@require(Capability.VIEW)
def organization_settings(request):
    checks = pipeline_checks_recent()
    return render(
        request,
        "console/settings.html",
        {
            "section": "settings",
            "members": members_of(request.tenant),
            "check": checks[0] if checks else None,
        },
    )
