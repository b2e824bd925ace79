"""Cluster pages and the agent's endpoints, on an organization's host."""

from django.urls import path

from clusters import views
from clusters.gateway import views as gateway

app_name = "clusters"

urlpatterns = [
    path("clusters/", views.cluster_list, name="list"),
    path("clusters/new/", views.cluster_create_view, name="create"),
    path("clusters/<int:pk>/", views.cluster_detail, name="detail"),
    path("clusters/<int:pk>/rotate/", views.cluster_rotate, name="rotate"),
    path("clusters/<int:pk>/reveal/<slug:key>/", views.cluster_reveal, name="reveal"),
    path("clusters/<int:pk>/delete/", views.cluster_delete_view, name="delete"),
    path("clusters/table/", views.cluster_table, name="table"),
    # The agent's endpoints (cluster-token auth; see clusters/gateway/views.py).
    path("agent/v1/hello", gateway.hello, name="agent_hello"),
    path("agent/v1/heartbeat", gateway.heartbeat, name="agent_heartbeat"),
    path("agent/v1/commands", gateway.commands, name="agent_commands"),
    path("agent/v1/results", gateway.results, name="agent_results"),
]
