"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped)."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0010_fk_indexes_led_by_composites"),
        ("tagging", "0004_default_rules"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="conversationtag",
                name="conversation",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="tag_links",
                    to="inbox.conversation",
                ),
            ),
            migrations.AlterField(
                model_name="conversationtag",
                name="tag",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="links",
                    to="tagging.tag",
                ),
            ),
            migrations.AlterField(
                model_name="tagsuggestion",
                name="conversation",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="tag_suggestions",
                    to="inbox.conversation",
                ),
            ),
            indexes={
                "tagging_conversationtag_conversation_id_4ad7ac78": (
                    "tagging_conversationtag",
                    "conversation_id",
                ),
                "tagging_conversationtag_tag_id_a3acddd8": ("tagging_conversationtag", "tag_id"),
                "tagging_tagsuggestion_conversation_id_c0f0c343": (
                    "tagging_tagsuggestion",
                    "conversation_id",
                ),
            },
        ),
    ]
