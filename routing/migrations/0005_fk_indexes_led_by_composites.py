"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped)."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0010_fk_indexes_led_by_composites"),
        ("routing", "0004_sla"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="slaalert",
                name="conversation",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="sla_alerts",
                    to="inbox.conversation",
                ),
            ),
            indexes={
                "routing_slaalert_conversation_id_45d72e9b": (
                    "routing_slaalert",
                    "conversation_id",
                ),
            },
        ),
    ]
