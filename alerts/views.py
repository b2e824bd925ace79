"""Alert pages. Ingestion (signals, integrations) and rules arrive in later changes; the pages
exist now so navigation is complete and each says what it will hold."""

from __future__ import annotations

from django.shortcuts import redirect, render

from tenants.permissions import require
from tenants.roles import Capability


@require(Capability.VIEW)
def home(request):
    return redirect("alerts:list")


@require(Capability.VIEW)
def alert_list(request):
    return render(request, "alerts/alert_list.html", {"section": "alerts"})


@require(Capability.VIEW)
def rule_list(request):
    return render(request, "alerts/rule_list.html", {"section": "rules"})


@require(Capability.VIEW)
def integration_list(request):
    return render(request, "alerts/integration_list.html", {"section": "integrations"})
