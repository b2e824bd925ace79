"""Forms of the organization admin and platform pages (validation of input only; services decide)."""

from __future__ import annotations

import re
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html

from tenants.models import MAX_RETENTION_DAYS, slug_validator
from tenants.org_settings import default_action_choices
from tenants.roles import Role

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TransferForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput)


class AcceptNewUserForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200, required=False)
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput, help_text=password_validators_help_text_html()
    )
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


def _days_field(label: str, default_setting: str) -> forms.IntegerField:
    default = getattr(settings, default_setting)
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        help_text=f"Days; empty keeps the installation's default ({default} days).",
    )


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    time_zone = forms.CharField(max_length=64, help_text="An IANA name, e.g. Europe/Paris.")
    signal_retention_days = _days_field("Keep resolved signals", "SIGNAL_RETENTION_DAYS")
    raw_payload_retention_days = _days_field("Keep raw webhook payloads", "RAW_PAYLOAD_RETENTION_DAYS")
    investigation_retention_days = _days_field("Keep finished investigations", "INVESTIGATION_RETENTION_DAYS")
    default_action = forms.ChoiceField(
        choices=default_action_choices, help_text="What happens to a signal no rule matches."
    )
    allowed_email_domains = forms.CharField(
        required=False,
        label="Allowed email domains for self-join",
        help_text="Comma-separated, e.g. example.com. Signed-in people with such an address may join as "
        "members. Empty: invitation only.",
    )

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError(
                f"{name!r} is not a time zone name, e.g. Europe/Paris or America/New_York."
            )
        return name

    def clean_allowed_email_domains(self) -> list[str]:
        raw = self.cleaned_data["allowed_email_domains"]
        domains = []
        for part in re.split(r"[,\s]+", raw.strip().lower()):
            part = part.lstrip("@")
            if not part:
                continue
            if not _DOMAIN.match(part):
                raise forms.ValidationError(f"{part!r} is not a domain name such as example.com.")
            if part not in domains:
                domains.append(part)
        return domains


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=254, label="Actor email contains")
    action = forms.CharField(required=False, max_length=64)
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(max_length=42, validators=[slug_validator])
    domain = forms.CharField(
        max_length=253, required=False, help_text="Empty: <slug>.<the installation's base domain>."
    )
    owner_email = forms.EmailField()
    owner_password = forms.CharField(
        widget=forms.PasswordInput,
        required=False,
        help_text="Needed when the owner has no account yet.",
    )

    def clean_domain(self) -> str:
        domain = self.cleaned_data["domain"].strip().lower()
        return domain

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("slug") and not cleaned.get("domain"):
            cleaned["domain"] = f"{cleaned['slug']}.{settings.BASE_DOMAIN}"
        return cleaned


class QuotasForm(forms.Form):
    max_investigations_per_day = forms.IntegerField(
        required=False, min_value=0, label="Investigations per day"
    )
    max_clusters = forms.IntegerField(required=False, min_value=0, label="Clusters")
    max_members = forms.IntegerField(required=False, min_value=0, label="Members")


class SuspendForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


class DeleteForm(forms.Form):
    confirmation = forms.CharField(max_length=42, label="Type the organization's slug to confirm")
