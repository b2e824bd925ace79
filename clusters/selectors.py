"""Reads of clusters and agent commands; callers are already inside the organization's schema."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404

from clusters.models import AgentCommand, Cluster
from tenants.secret_box import digest


def clusters_list() -> list[Cluster]:
    return list(Cluster.objects.all())


def cluster_get(pk: int) -> Cluster:
    cluster = Cluster.objects.filter(pk=pk).first()
    if cluster is None:
        raise Http404("no such cluster")
    return cluster


def cluster_get_by_name(name: str) -> Cluster | None:
    return Cluster.objects.filter(name=name).first()


def cluster_for_token(token: str) -> Cluster | None:
    """The cluster of this bearer token in the *current* schema (another org's token finds nothing)."""
    if not token:
        return None
    return Cluster.objects.filter(token_hash=digest(token)).first()


def commands_by_id(cluster: Cluster, command_ids: list[str]) -> dict[str, AgentCommand]:
    rows = AgentCommand.objects.filter(cluster=cluster, command_id__in=command_ids)
    return {row.command_id: row for row in rows}


def commands_recent(cluster: Cluster, limit: int = 20) -> list[AgentCommand]:
    return list(AgentCommand.objects.filter(cluster=cluster).order_by("-created_at", "-pk")[:limit])


def clusters_count(organization, since: datetime) -> int:
    """Usage counter registered with tenants.quotas (clusters/apps.py): (organization, since) -> number."""
    return Cluster.objects.count()
