"""Included at `settings/models/` (namespace `llm`)."""

from django.urls import path

from investigations.llm import views

app_name = "llm"

urlpatterns = [
    path("", views.model_settings, name="settings"),
    path("test/", views.model_test, name="test"),
]
