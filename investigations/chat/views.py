"""The chat endpoints (htmx): read the conversation (viewers and up), ask a question (members and up)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from investigations.chat.selectors import chat_messages_for, investigation_for_chat
from investigations.chat.services import MAX_QUESTION_CHARS, chat_ask
from tenants.permissions import can, require
from tenants.roles import Capability

SUGGESTIONS = (
    "Why did this pod crash?",
    "Show me the logs of the previous container",
    "What changed in the last hour?",
    "What should I run?",
)


def chat_context(request: HttpRequest, investigation, **extra) -> dict:
    """What `_chat.html` needs; the investigation page can include the partial with this context."""
    return {
        "investigation": investigation,
        "chat_messages": chat_messages_for(investigation),
        "can_ask": can(request, Capability.INVESTIGATE),
        "max_question_chars": MAX_QUESTION_CHARS,
        "chat_suggestions": SUGGESTIONS,
        **extra,
    }


@require(Capability.VIEW)
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the conversation partial. POST: ask (INVESTIGATE), answer the updated conversation."""
    if request.method == "POST":
        if not can(request, Capability.INVESTIGATE):
            raise PermissionDenied("your role does not allow: investigate")
        investigation = investigation_for_chat(pk)
        try:
            chat_ask(investigation, request.user, request.POST.get("question", ""))
        except ValidationError as error:
            context = chat_context(request, investigation, error=" ".join(error.messages))
            context["question"] = request.POST.get("question", "")[:MAX_QUESTION_CHARS]
            return render(request, "investigations/partials/_chat.html", context, status=400)
        if not request.headers.get("HX-Request"):
            return redirect("investigations:detail", pk=investigation.pk)
        return render(request, "investigations/partials/_chat.html", chat_context(request, investigation))
    investigation = investigation_for_chat(pk)
    return render(request, "investigations/partials/_chat.html", chat_context(request, investigation))
