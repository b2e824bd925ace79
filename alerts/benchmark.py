"""The benchmark's baseline endpoint: the same stack (ASGI, tenant routing, token lookup, one
transaction) doing only the minimum, one INSERT per alert, so bench/ingest.py can show what the
real pipeline costs on top. 404 unless OPSWORKER_BENCH_BASELINE_ENDPOINT is true."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from alerts.models import BenchmarkRow
from alerts.selectors import integration_for_token


@csrf_exempt
def baseline(request, token: str):
    if not settings.BENCH_BASELINE_ENDPOINT or request.method != "POST":
        raise Http404("baseline endpoint disabled")
    if integration_for_token(token, "alertmanager") is None:
        raise Http404("unknown token")
    payload = json.loads(request.body)
    alerts = payload.get("alerts") or []
    with transaction.atomic():
        for alert in alerts:
            BenchmarkRow.objects.create(alertname=str(alert.get("labels", {}).get("alertname", ""))[:500])
    return JsonResponse({"accepted": len(alerts)}, status=202)
