"""Insights URL; included from the organization URLconf: path("", include("investigations.insights_urls"))."""

from django.urls import path

from investigations import insights_views

app_name = "insights"

urlpatterns = [
    path("insights/", insights_views.insights, name="dashboard"),
]
