"""Included at `settings/notifications/` (namespace `notify`)."""

from django.urls import path

from notifications import views

app_name = "notify"

urlpatterns = [
    path("", views.notification_settings, name="settings"),
    path("slack/install/", views.slack_install, name="slack_install"),
    path("slack/oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("slack/token/", views.slack_token, name="slack_token"),
    path("slack/disconnect/", views.slack_disconnect, name="slack_disconnect"),
    path("slack/test/", views.slack_test, name="slack_test"),
    path("routes/", views.route_add, name="route_add"),
    path("routes/<int:pk>/delete/", views.route_delete, name="route_delete"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("digest/", views.digest_preview, name="digest"),
    path("digest/send/", views.digest_send_now, name="digest_send"),
]
