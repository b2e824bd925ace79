"""Does a database made by an earlier commit migrate forward with every row kept?

    .venv/bin/python tools/check_forward_migration.py --from b0c8a65

Checks out `--from` in a temporary git worktree, builds a fresh database with its migrations,
creates two organizations and writes rows into every tenant table (through that commit's own
models), counts the rows of every table in every schema, then migrates the same database with
the working tree's code and counts again. Exit 0 when no table lost a row and the models of the
working tree read the same numbers; the per-table figures are printed either way.

Not part of `make test`: it needs git history and builds a whole database (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

# Runs inside the old checkout (`manage.py shell`): two organizations, rows in every tenant model.
SEED = r"""
import datetime
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from tenants.models import Organization, Domain

def value_for(field, n):
    if isinstance(field, models.ForeignKey):
        return None
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, (models.EmailField,)):
        return f"user{n}@example.com"
    if isinstance(field, (models.URLField,)):
        return f"https://example.com/{n}"
    if isinstance(field, models.CharField) or isinstance(field, models.TextField):
        limit = field.max_length or 40
        return (f"{field.name}-{n}-" + "x" * 8)[:limit]
    if isinstance(field, models.BooleanField):
        return True  # singleton tables check `singleton = true`; a unique one then holds one row
    if isinstance(field, models.IntegerField):  # also the Positive/Big/Small kinds
        return n
    if isinstance(field, models.DecimalField):
        return 0
    if isinstance(field, models.FloatField):
        return 0.0
    if isinstance(field, models.DateTimeField):
        return timezone.now() - datetime.timedelta(days=n)
    if isinstance(field, models.DateField):
        return datetime.date.today() - datetime.timedelta(days=n)
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.BinaryField):
        return b"x"
    return None

tenant_models = [m for m in apps.get_models() if m._meta.app_label in ("alerts", "investigations")]
created = {}
for slug in ("fwd-one", "fwd-two"):
    org = Organization.objects.filter(schema_name=slug.replace("-", "_")).first()
    if org is None:
        org = Organization(schema_name=slug.replace("-", "_"), name=slug, slug=slug)
        org.save()
        Domain.objects.create(domain=f"{slug}.localhost", tenant=org, is_primary=True)
    with schema_context(org.schema_name):
        made = {}
        pending = list(tenant_models)
        for _round in range(6):
            for model in list(pending):
                rows = []
                try:
                    for n in range(3):
                        kwargs = {}
                        for field in model._meta.concrete_fields:
                            if field.primary_key or field.auto_created:
                                continue
                            if isinstance(field, models.ForeignKey):
                                target = field.related_model
                                if target is model:
                                    continue
                                if target in made:
                                    kwargs[field.name] = made[target][0]
                                elif not field.null:
                                    raise LookupError(target)
                                continue
                            if field.has_default() and not field.unique:
                                continue
                            value = value_for(field, n)
                            if value is None:
                                if field.null or field.blank:
                                    continue
                            kwargs[field.name] = value
                        try:
                            with transaction.atomic():
                                rows.append(model.objects.create(**kwargs))
                        except IntegrityError:
                            break  # a one-row table (singleton) or a unique field: fewer rows
                except LookupError:
                    continue
                if rows:
                    made[model] = rows
                pending.remove(model)
        created[org.schema_name] = {m._meta.label: len(r) for m, r in made.items()}
        if pending:
            created[org.schema_name]["not seeded"] = [m._meta.label for m in pending]
import json; print("SEEDED " + json.dumps(created))
"""

# Runs with the working tree's code: what its models read in each organization.
READ = r"""
import json
from django.apps import apps
from django_tenants.utils import schema_context
counts = {}
for schema in ("fwd_one", "fwd_two"):
    with schema_context(schema):
        counts[schema] = {
            m._meta.db_table: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in ("alerts", "clusters", "investigations", "notifications")
        }
print("READ " + json.dumps(counts))
"""


def run(cwd: Path, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"failed in {cwd}: {' '.join(args[:4])}")
    return done.stdout


def table_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        return {
            f"{schema}.{table}": conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            for schema, table in sorted(tables)
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="rev", required=True, help="the earlier commit, e.g. origin/main")
    parser.add_argument("--database", default="opsworker_forward_check")
    args = parser.parse_args()

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    env = {**os.environ, "DATABASE_URL": dsn, "DJANGO_SETTINGS_MODULE": "opsworker.settings.dev"}
    with tempfile.TemporaryDirectory(prefix="forward-check-") as tmp:
        old = Path(tmp) / "old"
        run(ROOT, ["git", "worktree", "add", "--detach", str(old), args.rev], env)
        try:
            run(old, [str(PYTHON), "manage.py", "migrate_schemas", "--shared", "-v", "0"], env)
            seeded = run(old, [str(PYTHON), "manage.py", "shell", "-c", SEED], env)
            before = table_counts(dsn)
            run(ROOT, [str(PYTHON), "manage.py", "migrate_schemas", "-v", "0"], env)
            after = table_counts(dsn)
            read = run(ROOT, [str(PYTHON), "manage.py", "shell", "-c", READ], env)
        finally:
            run(ROOT, ["git", "worktree", "remove", "--force", str(old)], env)

    seeded_line = next(line for line in seeded.splitlines() if line.startswith("SEEDED "))
    read_counts = json.loads(next(line for line in read.splitlines() if line.startswith("READ "))[5:])
    print("seeded with", args.rev, json.dumps(json.loads(seeded_line[7:]), indent=1))
    lost = {t: (n, after.get(t)) for t, n in before.items() if after.get(t, -1) < n}
    new_tables = sorted(set(after) - set(before))
    print(
        f"{len(before)} tables before, {len(after)} after; rows before {sum(before.values())}, "
        f"after {sum(after.values())}"
    )
    for table in sorted(before):
        if table.split(".")[0] in ("fwd_one", "fwd_two") and before[table]:
            print(f"  {table:<55} {before[table]:>5} -> {after.get(table)}")
    mismatched = {
        f"{schema}.{table}": (count, after.get(f"{schema}.{table}"))
        for schema, tables in read_counts.items()
        for table, count in tables.items()
        if count != after.get(f"{schema}.{table}")
    }
    print("new tables:", new_tables or "none")
    print("tables that lost rows:", lost or "none")
    print("models reading other numbers than the tables hold:", mismatched or "none")
    return 1 if lost or mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
