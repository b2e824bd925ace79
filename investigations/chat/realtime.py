"""Live chat updates: the same partials the page includes, sent out-of-band to the investigation's group.

Every fragment replaces an element with a stable id (the whole log when a message is added, one
message while it streams), so a repeated or late fragment never duplicates anything.
"""

from __future__ import annotations

from django.db import connection
from django.template.loader import render_to_string

from investigations.chat.selectors import chat_messages_for
from investigations.models import ChatMessage
from tenants.realtime import object_group, publish_html


def chat_group(investigation_id: int) -> str:
    return object_group(connection.schema_name, "investigation", investigation_id)


def render_log(investigation, *, oob: bool) -> str:
    return render_to_string(
        "investigations/partials/_chat_log.html",
        {"investigation": investigation, "chat_messages": chat_messages_for(investigation), "oob": oob},
    )


def publish_log(investigation) -> None:
    publish_html(chat_group(investigation.pk), render_log(investigation, oob=True))


def publish_message(message: ChatMessage) -> None:
    html = render_to_string("investigations/partials/_chat_message.html", {"message": message, "oob": True})
    publish_html(chat_group(message.investigation_id), html)
