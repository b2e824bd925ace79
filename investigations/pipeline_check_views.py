"""The Settings page's pipeline check: one job per queue, each reporting back live."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from investigations.selectors import pipeline_checks_recent
from investigations.services import pipeline_check_start
from tenants.permissions import require
from tenants.roles import Capability


@require(Capability.VIEW)
def pipeline_check_panel(request):
    """The Settings page's pipeline-check card alone (htmx refresh)."""
    checks = pipeline_checks_recent()
    return render(
        request,
        "investigations/partials/_pipeline_check.html",
        {"check": checks[0] if checks else None},
    )


@require_POST
@require(Capability.INVESTIGATE)
def pipeline_check_create(request):
    check = pipeline_check_start(requested_by=request.user.email)
    if request.htmx:
        return render(request, "investigations/partials/_pipeline_check.html", {"check": check})
    messages.info(request, "Pipeline check started: results appear below as each worker reports.")
    return redirect("settings")
