"""`/favicon.ico`, which browsers and tools request on their own: it leads to the SVG icon in static/.

Open on every host without signing in (`/favicon.ico` is one of the access middleware's open
prefixes); it reveals nothing and touches no organization's data.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_safe

ICON = "favicon.svg"


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    # A redirect, not the file: the static URL carries WhiteNoise's content hash in production.
    response = HttpResponseRedirect(static(ICON))
    response["Cache-Control"] = "public, max-age=86400"
    return response
