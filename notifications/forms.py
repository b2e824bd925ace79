"""Forms of the notifications settings page."""

from __future__ import annotations

import zoneinfo

from django import forms

from notifications.models import NotificationRoute, NotificationSettings
from notifications.routing import invalid_channels

CHANNEL_HELP = (
    "A channel name (#ops) or id (C0123ABCD); several separated by commas. "
    "Invite the bot to private channels."
)


def _clean_channels(value: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise forms.ValidationError("Name a channel.")
    bad = invalid_channels(value)
    if bad:
        raise forms.ValidationError(f"Not a Slack channel name or id: {', '.join(bad[:3])}")
    return value


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = [
            "default_channel",
            "always_default",
            "digest_enabled",
            "digest_channel",
            "digest_time",
            "digest_timezone",
        ]
        labels = {
            "always_default": "Also post to the default channel when a rule or cluster names its own channel",
            "digest_enabled": "Send the daily digest",
            "digest_channel": "Digest channel",
            "digest_time": "Digest time (local)",
            "digest_timezone": "Digest time zone",
        }
        help_texts = {
            "default_channel": CHANNEL_HELP,
            "digest_channel": "Empty: the default channel.",
            "digest_timezone": "An IANA zone such as UTC, Europe/Berlin or America/New_York.",
        }
        widgets = {"digest_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def clean_default_channel(self) -> str:
        return _clean_channels(self.cleaned_data.get("default_channel"))

    def clean_digest_channel(self) -> str:
        return _clean_channels(self.cleaned_data.get("digest_channel"))

    def clean_digest_timezone(self) -> str:
        name = (self.cleaned_data.get("digest_timezone") or "UTC").strip()
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(f"Unknown time zone {name!r}.") from None
        return name


class RouteForm(forms.ModelForm):
    class Meta:
        model = NotificationRoute
        fields = ["cluster_name", "channel"]
        help_texts = {"channel": CHANNEL_HELP}

    def clean_channel(self) -> str:
        return _clean_channels(self.cleaned_data.get("channel"), required=True)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Bot token",
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "xoxb-…"}),
        help_text="From your Slack app's OAuth & Permissions page; needs the chat:write scope.",
        max_length=300,
    )
    signing_secret = forms.CharField(
        label="Signing secret (optional)",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Your Slack app's signing secret (Basic Information), to accept its feedback buttons.",
        max_length=200,
    )
