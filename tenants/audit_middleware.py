"""Every configuration change made through the pages lands in the audit log.

Views declare what they require (`@require(Capability.CONFIGURE)`); after a successful unsafe
request (POST/PUT/PATCH/DELETE answered below 400) to such a view, one audit event records who,
which action (the URL name, e.g. `config.alerts:integration_rotate`), which object (the URL's
arguments) and when. One mechanism, so a new configuration page is audited without remembering to.
The organization-admin pages and the JSON API record their own, more specific events.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from tenants.audit import audit_record
from tenants.roles import Capability

logger = logging.getLogger(__name__)

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SELF_AUDITED_MODULES = ("tenants.admin_views", "tenants.platform_views", "opsworker.api.")


class ConfigurationAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in _UNSAFE or response.status_code >= 400:
            return response
        match = getattr(request, "resolver_match", None)
        membership = getattr(request, "membership", None)
        if match is None or membership is None:
            return response
        view = match.func
        if getattr(view, "required_capability", None) != Capability.CONFIGURE:
            return response
        if (getattr(view, "__module__", "") or "").startswith(_SELF_AUDITED_MODULES):
            return response

        try:
            audit_record(
                action=f"config.{match.view_name}"[:64],
                request=request,
                target=", ".join(f"{key}={value}" for key, value in sorted(match.kwargs.items())),
                details={"path": request.path, "status": response.status_code},
            )
        except DatabaseError as error:  # the change is done; a missing audit row is logged loudly
            logger.error("tenants.audit.record_failed", extra={"path": request.path, "error": str(error)})
        return response
