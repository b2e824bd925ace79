# Follow-up chat on investigations (investigations/models/chat.py).

from decimal import Decimal

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("investigations", "0005_model_config"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChatMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(choices=[("user", "User"), ("assistant", "Assistant")], max_length=10),
                ),
                ("author_id", models.PositiveBigIntegerField(blank=True, null=True)),
                ("author_email", models.EmailField(blank=True, max_length=254)),
                ("text", models.TextField(blank=True)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for a worker"),
                            ("streaming", "Answering"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="done",
                        max_length=10,
                    ),
                ),
                (
                    "answered_by",
                    models.CharField(
                        blank=True,
                        choices=[("builtin", "From the evidence"), ("model", "Model")],
                        max_length=10,
                    ),
                ),
                ("model", models.CharField(blank=True, max_length=200)),
                ("note", models.CharField(blank=True, max_length=500)),
                ("tool_calls", models.JSONField(blank=True, default=list)),
                ("tokens", models.PositiveIntegerField(default=0)),
                ("cost", models.DecimalField(decimal_places=6, default=Decimal("0"), max_digits=10)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "investigation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_messages",
                        to="investigations.investigation",
                    ),
                ),
                (
                    "reply_to",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="investigations.chatmessage",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "pk"],
                "indexes": [
                    models.Index(fields=["investigation", "created_at"], name="chat_investigation_idx")
                ],
            },
        ),
    ]
