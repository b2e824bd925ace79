"""Reads of chat data, always inside the organization's schema (unknown ids are 404s)."""

from __future__ import annotations

from django.http import Http404

from investigations.models import ChatMessage, Investigation


def investigation_for_chat(pk: int) -> Investigation:
    """The investigation of this schema with that id, or 404 (another organization's id is unknown here)."""
    investigation = Investigation.objects.select_related("signal").filter(pk=pk).first()
    if investigation is None:
        raise Http404("no such investigation")
    return investigation


def chat_messages_for(investigation: Investigation) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(investigation=investigation).order_by("created_at", "pk"))


def chat_history_before(message: ChatMessage) -> list[dict[str, str]]:
    """Earlier finished questions and answers, as neutral model messages (oldest first)."""
    earlier = ChatMessage.objects.filter(
        investigation_id=message.investigation_id, pk__lt=message.reply_to_id or message.pk
    ).exclude(text="")
    return [{"role": m.role, "content": m.text} for m in earlier.order_by("created_at", "pk")]
