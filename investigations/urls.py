from django.urls import path

from investigations import views

app_name = "investigations"

urlpatterns = [
    path("investigations/", views.investigation_list, name="list"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("settings/pipeline-check/", views.pipeline_check_panel, name="pipeline_check"),
    path("settings/pipeline-check/run/", views.pipeline_check_create, name="pipeline_check_run"),
]
