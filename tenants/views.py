"""Account pages (both hosts) and the public host's "your organizations" page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tenants.links import host_url
from tenants.security import ThrottledAuthenticationForm
from tenants.selectors import memberships_for_user


class LoginView(auth_views.LoginView):
    # Email sign-in, throttled per account and per address with growing delays (tenants/security.py).
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            # 429 with Retry-After: the page still shows the form and says how long to wait.
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = "/accounts/password/done/"


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


@login_required
def your_organizations(request):
    """Public host home: every organization the user belongs to, linking to its own domain."""
    rows = [
        {
            "organization": m.organization,
            "role": m.get_role_display(),
            "url": host_url(m.organization.primary_domain) if m.organization.primary_domain else "",
        }
        for m in memberships_for_user(request.user)
    ]
    return render(request, "accounts/your_organizations.html", {"rows": rows})
