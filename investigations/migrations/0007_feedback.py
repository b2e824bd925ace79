# Feedback on investigations (investigations/feedback.py).

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("investigations", "0006_chat"),
    ]

    operations = [
        migrations.CreateModel(
            name="InvestigationFeedback",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("user_id", models.BigIntegerField()),
                ("email", models.EmailField(max_length=254)),
                (
                    "rating",
                    models.CharField(
                        choices=[
                            ("accurate", "Accurate"),
                            ("partial", "Partially accurate"),
                            ("needs_improvement", "Needs improvement"),
                        ],
                        max_length=20,
                    ),
                ),
                ("comment", models.TextField(blank=True, max_length=2000)),
                (
                    "source",
                    models.CharField(
                        choices=[("page", "Investigation page"), ("slack", "Slack")],
                        default="page",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "investigation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="feedback",
                        to="investigations.investigation",
                    ),
                ),
            ],
            options={"ordering": ["-updated_at"]},
        ),
        migrations.AddConstraint(
            model_name="investigationfeedback",
            constraint=models.UniqueConstraint(
                fields=("investigation", "user_id"), name="investigation_feedback_once_per_user"
            ),
        ),
    ]
