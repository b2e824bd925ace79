"""Slack models move here from the investigations app: state only (see clusters/0001).

The tables stay where investigations/0008 created them (`db_table` keeps their names).
"""

import datetime
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('investigations', '0010_root_cause_category_choices'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='NotificationRoute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cluster_name', models.CharField(max_length=253, unique=True)),
                        ('channel', models.CharField(max_length=200)),
                        ('created_by', models.EmailField(blank=True, max_length=254)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'investigations_notificationroute',
                        'ordering': ['cluster_name'],
                    },
                ),
                migrations.CreateModel(
                    name='NotificationSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('default_channel', models.CharField(blank=True, max_length=200)),
                        ('always_default', models.BooleanField(default=False)),
                        ('digest_enabled', models.BooleanField(default=True)),
                        ('digest_channel', models.CharField(blank=True, max_length=200)),
                        ('digest_time', models.TimeField(default=datetime.time(9, 0))),
                        ('digest_timezone', models.CharField(default='UTC', max_length=64)),
                        ('digest_last_sent_on', models.DateField(blank=True, null=True)),
                        ('updated_by', models.EmailField(blank=True, max_length=254)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('singleton', models.BooleanField(default=True, editable=False, unique=True)),
                    ],
                    options={
                        'db_table': 'investigations_notificationsettings',
                        'constraints': [models.CheckConstraint(condition=models.Q(('singleton', True)), name='notificationsettings_singleton')],
                    },
                ),
                migrations.CreateModel(
                    name='SlackConnection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('team_id', models.CharField(max_length=32)),
                        ('team_name', models.CharField(blank=True, max_length=200)),
                        ('bot_user_id', models.CharField(blank=True, max_length=32)),
                        ('app_id', models.CharField(blank=True, max_length=32)),
                        ('scopes', models.CharField(blank=True, max_length=500)),
                        ('bot_token_encrypted', models.TextField()),
                        ('signing_secret_encrypted', models.TextField(blank=True)),
                        ('token_hint', models.CharField(blank=True, max_length=12)),
                        ('method', models.CharField(choices=[('oauth', 'Add to Slack (OAuth)'), ('pasted', 'Pasted bot token')], max_length=10)),
                        ('installed_by', models.EmailField(blank=True, max_length=254)),
                        ('installed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('singleton', models.BooleanField(default=True, editable=False, unique=True)),
                    ],
                    options={
                        'db_table': 'investigations_slackconnection',
                        'constraints': [models.CheckConstraint(condition=models.Q(('singleton', True)), name='slackconnection_singleton')],
                    },
                ),
                migrations.CreateModel(
                    name='SlackDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('investigation', 'Investigation'), ('digest', 'Daily digest'), ('test', 'Test message')], default='investigation', max_length=15)),
                        ('digest_date', models.DateField(blank=True, null=True)),
                        ('channel', models.CharField(help_text='As configured (name or id).', max_length=200)),
                        ('channel_id', models.CharField(blank=True, help_text='As Slack answered; used by updates.', max_length=32)),
                        ('ts', models.CharField(blank=True, max_length=32)),
                        ('route', models.CharField(blank=True, max_length=20)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('retrying', 'Retrying'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('resolved_update_at', models.DateTimeField(blank=True, null=True)),
                        ('investigation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='slack_deliveries', to='investigations.investigation')),
                    ],
                    options={
                        'db_table': 'investigations_slackdelivery',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['channel_id', 'ts'], name='slackdelivery_message_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('kind', 'investigation')), fields=('investigation', 'channel'), name='slackdelivery_once_per_channel'), models.UniqueConstraint(condition=models.Q(('kind', 'digest'), ('route', 'digest')), fields=('digest_date',), name='slackdelivery_one_scheduled_digest')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
