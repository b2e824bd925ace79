"""Clusters and agent commands move here from the investigations app: state only.

The tables stay where investigations/0003 created them (`db_table` keeps their names), so an
existing database keeps every row; a new one gets them from investigations/0003 as before.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("investigations", "0010_root_cause_category_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Cluster",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("token_hash", models.CharField(max_length=64, unique=True)),
                        ("token_hint", models.CharField(max_length=12)),
                        ("token_rotated_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "transport",
                            models.CharField(
                                choices=[("http", "HTTPS long-poll"), ("sqs", "Amazon SQS queues")],
                                default="http",
                                max_length=4,
                            ),
                        ),
                        ("sqs_command_queue_url", models.URLField(blank=True, max_length=500)),
                        ("sqs_result_queue_url", models.URLField(blank=True, max_length=500)),
                        ("sqs_region", models.CharField(blank=True, max_length=40)),
                        ("agent_version", models.CharField(blank=True, max_length=40)),
                        ("kubernetes_version", models.CharField(blank=True, max_length=60)),
                        ("protocol_version", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("capabilities", models.JSONField(blank=True, default=dict)),
                        ("last_stats", models.JSONField(blank=True, default=dict)),
                        ("last_seen_at", models.DateTimeField(blank=True, null=True)),
                        ("connected_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("created_by", models.EmailField(blank=True, max_length=254)),
                    ],
                    options={
                        "db_table": "investigations_cluster",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="AgentCommand",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("command_id", models.CharField(max_length=128, unique=True)),
                        ("op", models.CharField(max_length=10)),
                        ("kind", models.CharField(max_length=60)),
                        ("namespace", models.CharField(blank=True, max_length=253)),
                        ("name", models.CharField(blank=True, max_length=253)),
                        ("params", models.JSONField(blank=True, default=dict)),
                        ("deadline", models.DateTimeField()),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("delivered", "Delivered"),
                                    ("done", "Done"),
                                    ("expired", "Expired"),
                                    ("refused", "Refused"),
                                ],
                                default="queued",
                                max_length=10,
                            ),
                        ),
                        ("deliveries", models.PositiveSmallIntegerField(default=0)),
                        ("result", models.JSONField(blank=True, null=True)),
                        ("error_code", models.CharField(blank=True, max_length=20)),
                        ("error_message", models.TextField(blank=True)),
                        ("truncated", models.BooleanField(default=False)),
                        ("truncation", models.TextField(blank=True)),
                        ("redactions", models.PositiveIntegerField(default=0)),
                        ("duration_ms", models.PositiveIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "cluster",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="commands",
                                to="clusters.cluster",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "investigations_agentcommand",
                        "ordering": ["created_at", "pk"],
                        "indexes": [
                            models.Index(fields=["cluster", "state", "deadline"], name="agentcommand_pending_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
