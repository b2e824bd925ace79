"""Organization-host administration pages (included at the root of `opsworker/urls.py`).

The invitation and join pages sit under `/accounts/login/`, which the access middleware leaves
open (an invitee is not a member yet); they check the link or the signed-in user themselves.
"""

from django.urls import path

from tenants import admin_views

app_name = "orgadmin"

urlpatterns = [
    path("settings/members/", admin_views.members, name="members"),
    path("settings/members/<int:pk>/role/", admin_views.member_role, name="member_role"),
    path("settings/members/<int:pk>/remove/", admin_views.member_remove, name="member_remove"),
    path("settings/members/transfer/", admin_views.ownership_transfer, name="ownership_transfer"),
    path("settings/invitations/", admin_views.invitation_create, name="invitation_create"),
    path("settings/invitations/<int:pk>/resend/", admin_views.invitation_resend, name="invitation_resend"),
    path("settings/invitations/<int:pk>/revoke/", admin_views.invitation_revoke, name="invitation_revoke"),
    path("settings/audit/", admin_views.audit_log, name="audit_log"),
    path("settings/organization/", admin_views.organization_settings, name="organization_settings"),
    path("accounts/login/invitation/<str:token>/", admin_views.invitation_accept, name="invitation_accept"),
    path("accounts/login/join/", admin_views.join, name="join"),
]
