"""Forms of the cluster pages: registering a cluster."""

from __future__ import annotations

from django import forms

from clusters.models import ClusterTransport


class ClusterCreateForm(forms.Form):
    """Name and transport; the service checks uniqueness and the SQS fields."""

    name = forms.CharField(
        max_length=100,
        help_text="As your team calls it, e.g. “prod-eu-1”; alerts naming it are investigated on it.",
    )
    transport = forms.ChoiceField(
        choices=ClusterTransport.choices,
        initial=ClusterTransport.HTTP,
        help_text="HTTPS long-poll needs only outbound HTTPS from the cluster to this portal.",
    )
    sqs_command_queue_url = forms.URLField(
        label="SQS command queue URL", required=False, max_length=500, assume_scheme="https"
    )
    sqs_result_queue_url = forms.URLField(
        label="SQS result queue URL", required=False, max_length=500, assume_scheme="https"
    )
    sqs_region = forms.CharField(label="SQS region", required=False, max_length=40)
