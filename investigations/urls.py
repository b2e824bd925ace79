from django.urls import path

from investigations import investigation_views, views
from investigations.gateway import views as gateway

app_name = "investigations"

urlpatterns = [
    path("investigations/", investigation_views.investigation_list, name="list"),
    path("investigations/new/", investigation_views.investigation_new, name="new"),
    path("investigations/<int:pk>/", investigation_views.investigation_detail, name="detail"),
    path("investigations/<int:pk>/rerun/", investigation_views.investigation_rerun_view, name="rerun"),
    path("investigations/<int:pk>/live/", investigation_views.investigation_live_state, name="live_state"),
    path("investigations/<int:pk>/feedback/", investigation_views.investigation_feedback, name="feedback"),
    path(
        "investigations/<int:pk>/feedback/send/",
        investigation_views.investigation_feedback_send,
        name="feedback_send",
    ),
    path(
        "alerts/<int:signal_id>/investigate/",
        investigation_views.investigation_from_signal,
        name="from_signal",
    ),
    path("demo/fire/", investigation_views.demo_fire, name="demo_fire"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/new/", views.cluster_create_view, name="cluster_create"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster_detail"),
    path("clusters/<int:pk>/rotate/", views.cluster_rotate, name="cluster_rotate"),
    path("clusters/<int:pk>/reveal/<slug:key>/", views.cluster_reveal, name="cluster_reveal"),
    path("clusters/<int:pk>/delete/", views.cluster_delete_view, name="cluster_delete"),
    path("clusters/table/", views.cluster_table, name="cluster_table"),
    path("settings/pipeline-check/", views.pipeline_check_panel, name="pipeline_check"),
    path("settings/pipeline-check/run/", views.pipeline_check_create, name="pipeline_check_run"),
    # The agent's endpoints (cluster-token auth; see investigations/gateway/views.py).
    path("agent/v1/hello", gateway.hello, name="agent_hello"),
    path("agent/v1/heartbeat", gateway.heartbeat, name="agent_heartbeat"),
    path("agent/v1/commands", gateway.commands, name="agent_commands"),
    path("agent/v1/results", gateway.results, name="agent_results"),
]
