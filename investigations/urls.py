from django.urls import path

from investigations import investigation_views, pipeline_check_views

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
    path("settings/pipeline-check/", pipeline_check_views.pipeline_check_panel, name="pipeline_check"),
    path(
        "settings/pipeline-check/run/", pipeline_check_views.pipeline_check_create, name="pipeline_check_run"
    ),
]
