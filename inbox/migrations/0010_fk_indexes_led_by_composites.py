"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped),
and on PostgreSQL the prefix-search twins of a contact's email and phone and a conversation's
reply token: nothing searches them by prefix."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import DropPatternTwins, fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0009_indexes_for_sidebar_counts"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="activity",
                name="conversation",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="activities",
                    to="inbox.conversation",
                ),
            ),
            migrations.AlterField(
                model_name="message",
                name="conversation",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="messages",
                    to="inbox.conversation",
                ),
            ),
            indexes={
                "inbox_activity_conversation_id_a507949f": ("inbox_activity", "conversation_id"),
                "inbox_message_conversation_id_37bc0d72": ("inbox_message", "conversation_id"),
            },
        ),
        DropPatternTwins(
            {
                "inbox_contact_email_d6f5c817_like": ("inbox_contact", "email"),
                "inbox_contact_phone_60c0d25d_like": ("inbox_contact", "phone"),
                "inbox_conversation_reply_token_ec97d626_like": (
                    "inbox_conversation",
                    "reply_token",
                ),
            }
        ),
    ]
