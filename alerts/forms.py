"""Forms of the alert pages: creating an integration (its authentication fields per kind)."""

from __future__ import annotations

from django import forms

from alerts.models import AuthKind, Source
from alerts.services.integrations import AuthConfig

DEFAULT_HMAC_HEADER = "X-Grafana-Alerting-Signature"


class IntegrationCreateForm(forms.Form):
    """Name, source, cluster and the extra authentication; the service validates the combination."""

    name = forms.CharField(max_length=120, help_text="For people: e.g. “prod-eu Alertmanager”.")
    source = forms.ChoiceField(choices=Source.choices)
    cluster_name = forms.CharField(
        label="Cluster",
        max_length=253,
        required=False,
        help_text="The cluster this source watches, used when its alerts do not name one.",
    )
    auth_kind = forms.ChoiceField(
        label="Authentication",
        choices=AuthKind.choices,
        initial=AuthKind.NONE,
        help_text="The secret URL always authenticates; add a second factor if the sender supports one.",
    )
    # bearer
    bearer_token = forms.CharField(
        label="Bearer token", required=False, widget=forms.PasswordInput, help_text="At least 8 characters."
    )
    # basic
    basic_username = forms.CharField(label="User name", required=False, max_length=200)
    basic_password = forms.CharField(label="Password", required=False, widget=forms.PasswordInput)
    # custom header
    header_name = forms.CharField(
        label="Header name",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "X-Webhook-Token"}),
    )
    header_value = forms.CharField(label="Header value", required=False, widget=forms.PasswordInput)
    # hmac
    hmac_secret = forms.CharField(label="HMAC secret", required=False, widget=forms.PasswordInput)
    hmac_header = forms.CharField(
        label="Signature header",
        required=False,
        max_length=100,
        initial=DEFAULT_HMAC_HEADER,
        help_text="Grafana's form suggests X-Grafana-Alerting-Signature, but its code default (when the "
        "field is left empty) is X-Grafana-Alert-Signature: use the name your contact point actually sends.",
    )
    hmac_timestamp_header = forms.CharField(
        label="Timestamp header (optional)",
        required=False,
        max_length=100,
        help_text="When set in Grafana, the timestamp is signed too and old requests are refused.",
    )
    # cloudwatch
    allow_raw_delivery = forms.BooleanField(
        label="Allow SNS raw message delivery",
        required=False,
        help_text="Raw deliveries carry no SNS signature: anyone with the URL could send alarms. "
        "Leave off unless the subscription must use raw delivery.",
    )

    def auth_config(self) -> AuthConfig:
        """The authentication the form asks for (validated by the service, not here)."""
        data = self.cleaned_data
        kind = data["auth_kind"]
        if kind == AuthKind.BEARER:
            return AuthConfig(kind=kind, secret=data["bearer_token"])
        if kind == AuthKind.BASIC:
            return AuthConfig(
                kind=kind, username=data["basic_username"].strip(), secret=data["basic_password"]
            )
        if kind == AuthKind.HEADER:
            return AuthConfig(kind=kind, header=data["header_name"].strip(), secret=data["header_value"])
        if kind == AuthKind.HMAC:
            return AuthConfig(
                kind=kind,
                secret=data["hmac_secret"],
                header=data["hmac_header"].strip() or DEFAULT_HMAC_HEADER,
                timestamp_header=data["hmac_timestamp_header"].strip(),
            )
        return AuthConfig()
