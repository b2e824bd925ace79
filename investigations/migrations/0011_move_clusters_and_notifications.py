"""Clusters and Slack notifications now live in their own apps (clusters/0001, notifications/0001).

This removes the models from the investigations app's state only: the tables, their rows and
their constraints stay. The content types follow the models, so nothing that points at a content
type (admin log entries, permissions) is orphaned.
"""

from django.db import migrations

MOVED = {
    "cluster": "clusters",
    "agentcommand": "clusters",
    "notificationroute": "notifications",
    "notificationsettings": "notifications",
    "slackconnection": "notifications",
    "slackdelivery": "notifications",
}


def content_types_follow(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model, app_label in MOVED.items():
        if rows.filter(app_label=app_label, model=model).exists():
            rows.filter(app_label="investigations", model=model).delete()
        else:
            rows.filter(app_label="investigations", model=model).update(app_label=app_label)


def content_types_return(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model, app_label in MOVED.items():
        rows.filter(app_label=app_label, model=model).update(app_label="investigations")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("investigations", "0010_root_cause_category_choices"),
        ("clusters", "0001_initial"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="agentcommand", name="cluster"),
                migrations.RemoveField(model_name="slackdelivery", name="investigation"),
                migrations.DeleteModel(name="AgentCommand"),
                migrations.DeleteModel(name="Cluster"),
                migrations.DeleteModel(name="NotificationRoute"),
                migrations.DeleteModel(name="NotificationSettings"),
                migrations.DeleteModel(name="SlackConnection"),
                migrations.DeleteModel(name="SlackDelivery"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
