"""Chat URLs; included from the organization URLconf: path("", include("investigations.chat.urls"))."""

from django.urls import path

from investigations.chat import views

app_name = "chat"

urlpatterns = [
    path("investigations/<int:pk>/chat/", views.conversation, name="conversation"),
]
