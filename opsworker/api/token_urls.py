"""Included by the lead at `settings/api-tokens/` in opsworker/urls.py (namespace `api_tokens`)."""

from django.urls import path

from opsworker.api import token_views

app_name = "api_tokens"

urlpatterns = [
    path("", token_views.api_token_list, name="list"),
    path("new/", token_views.api_token_create_view, name="create"),
    path("<int:pk>/revoke/", token_views.api_token_revoke_view, name="revoke"),
    path("<int:pk>/reveal/<slug:key>/", token_views.api_token_reveal, name="reveal"),
]
