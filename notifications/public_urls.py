"""Included in `opsworker/urls_public.py`: Slack's one interactivity URL for the whole app."""

from django.urls import path

from notifications.interactivity import interactivity

urlpatterns = [
    path("slack/interactivity/", interactivity, name="slack_interactivity"),
]
