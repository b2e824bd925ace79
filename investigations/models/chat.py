"""The stored conversation of an investigation (tenant data).

Users live in the public schema, so the author is kept as id + email (no cross-schema foreign key).
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import models
from django.utils import timezone

_FENCE = re.compile(r"^```[a-z]*\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


class ChatRole(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"


class ChatState(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    STREAMING = "streaming", "Answering"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ChatAnswerer(models.TextChoices):
    BUILTIN = "builtin", "From the evidence"
    MODEL = "model", "Model"


class ChatMessage(models.Model):
    """One question or answer; an answer carries the tool calls the model made for it."""

    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="chat_messages"
    )
    role = models.CharField(max_length=10, choices=ChatRole.choices)
    author_id = models.PositiveBigIntegerField(null=True, blank=True)  # tenants.User id (public schema)
    author_email = models.EmailField(blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=ChatState.choices, default=ChatState.DONE)
    answered_by = models.CharField(max_length=10, choices=ChatAnswerer.choices, blank=True)
    model = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)  # e.g. why the model was not used
    # [{"id", "name", "arguments", "status": ok|error|refused, "reason", "read", "summary"}]
    tool_calls = models.JSONField(default=list, blank=True)
    tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=10, decimal_places=6, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "investigations"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["investigation", "created_at"], name="chat_investigation_idx")]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk} on investigation {self.investigation_id}"

    @property
    def dom_id(self) -> str:
        return f"chat-msg-{self.pk}"

    @property
    def blocks(self) -> list[dict[str, str]]:
        """The text split into prose and ``` fenced code blocks, for the template to render escaped."""
        parts, last = [], 0
        for match in _FENCE.finditer(self.text):
            if match.start() > last and self.text[last : match.start()].strip():
                parts.append({"kind": "text", "text": self.text[last : match.start()].strip("\n")})
            parts.append({"kind": "code", "text": match.group(1)})
            last = match.end()
        if self.text[last:].strip():
            parts.append({"kind": "text", "text": self.text[last:].strip("\n")})
        return parts

    @property
    def in_progress(self) -> bool:
        return self.state in (ChatState.PENDING, ChatState.STREAMING)
