"""Drop the single-column indexes of conversation's channel, contact, team and assignee: each
column leads a composite index (conv_channel_recent, conv_contact_recent, conv_team_recent,
conv_assignee_recent) that answers the same lookups, and every index of the table is written
again on each update that moves a row. Database side, a plain DROP INDEX (Django's AlterField
would also drop and re-validate the foreign keys over the whole table).

And a partial index for the Overnight view (arrived outside hours, unassigned, open): its
sidebar count found no index and read the whole table when few conversations match."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "assignee_id": "inbox_conversation_assignee_id_4bf0d3a6",
    "channel_id": "inbox_conversation_channel_id_8b41ed11",
    "contact_id": "inbox_conversation_contact_id_4878e8e1",
    "team_id": "inbox_conversation_team_id_1d17aa2d",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("inbox", "0007_ui_canned_responses"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_conversations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="channel",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversations",
                        to="inbox.channel",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversations",
                        to="inbox.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="conversations",
                        to="accounts.team",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "inbox_conversation" ("{column}")',
                )
                for column, name in INDEXES.items()
            ],
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(
                    ("arrived_outside_hours", True), ("assignee__isnull", True), ("status", "open")
                ),
                fields=["team", "-last_message_at"],
                name="conv_overnight",
            ),
        ),
    ]
