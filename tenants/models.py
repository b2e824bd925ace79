"""Public-schema models: organizations (tenants), their domains, users and memberships."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django_tenants.models import DomainMixin, TenantMixin

from tenants.roles import Role

slug_validator = RegexValidator(
    r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$",
    "3 to 42 characters: lower-case letters, digits and dashes, starting with a letter.",
)


class Organization(TenantMixin):
    """One customer organization; its data lives in its own PostgreSQL schema."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=42, unique=True, validators=[slug_validator])
    is_active = models.BooleanField(default=True, help_text="Suspended organizations keep their data.")
    created_at = models.DateTimeField(default=timezone.now)

    # Creating an Organization creates and migrates its schema; deleting one drops it.
    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_domain(self) -> str:
        domain = self.domains.filter(is_primary=True).first()
        return domain.domain if domain else ""


class Domain(DomainMixin):
    """A host name that routes to an organization (`acme.opsworker.example`)."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Lives in the public schema; memberships say which organizations they may enter."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the platform admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Membership(models.Model):
    """Grants one user one role in one organization."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org"),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.role}"


# Public-schema models kept in their own modules; imported here so Django registers them.
from tenants.api_tokens import ApiToken  # noqa: E402, F401
from tenants.audit import AuditEvent  # noqa: E402, F401
from tenants.invitations import Invitation  # noqa: E402, F401
from tenants.org_settings import OrganizationSettings  # noqa: E402, F401
