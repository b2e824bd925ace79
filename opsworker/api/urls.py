"""Included by the lead at `api/v1/` in opsworker/urls.py (namespace `api`)."""

from django.urls import path, re_path

from opsworker.api import views

app_name = "api"

urlpatterns = [
    path("", views.index, name="index"),
    path("openapi.json", views.openapi_document, name="openapi"),
    path("signals/", views.signal_list, name="signal_list"),
    path("signals/<int:pk>/", views.signal_detail, name="signal_detail"),
    path("investigations/", views.investigation_collection, name="investigation_list"),
    path("investigations/<int:pk>/", views.investigation_detail, name="investigation_detail"),
    path("investigations/<int:pk>/rerun/", views.investigation_rerun_view, name="investigation_rerun"),
    path("rules/", views.rule_collection, name="rule_list"),
    path("rules/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("clusters/", views.cluster_list, name="cluster_list"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster_detail"),
    path("integrations/", views.integration_list, name="integration_list"),
    path("integrations/<int:pk>/", views.integration_detail, name="integration_detail"),
    # Anything else under /api/v1/ answers a JSON 404 (never the HTML page).
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
