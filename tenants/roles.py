"""Roles and what each may do: the one permission vocabulary the whole product checks against."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Higher rank includes everything a lower rank may do.
_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Capability(models.TextChoices):
    """What a view, partial, consumer or API endpoint requires. Each maps to a minimum role."""

    VIEW = "view", "Read the organization's data"
    INVESTIGATE = "investigate", "Start investigations, chat, give feedback, manage silences"
    CONFIGURE = "configure", "Configure rules, integrations, clusters, notifications, models"
    MANAGE_MEMBERS = "manage_members", "Invite and manage members"
    OWN = "own", "Transfer ownership, delete the organization"


_MINIMUM_ROLE = {
    Capability.VIEW: Role.VIEWER,
    Capability.INVESTIGATE: Role.MEMBER,
    Capability.CONFIGURE: Role.ADMIN,
    Capability.MANAGE_MEMBERS: Role.ADMIN,
    Capability.OWN: Role.OWNER,
}


def role_allows(role: str | None, capability: str) -> bool:
    """True when `role` grants `capability` (unknown roles grant nothing)."""
    if role not in _RANK:
        return False
    return _RANK[Role(role)] >= _RANK[_MINIMUM_ROLE[Capability(capability)]]
