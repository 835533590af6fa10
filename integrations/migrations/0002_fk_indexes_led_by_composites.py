"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped),
and on PostgreSQL the prefix-search twin of a delivery's webhook id: nothing searches it by
prefix."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import DropPatternTwins, fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0010_fk_indexes_led_by_composites"),
        ("integrations", "0001_initial"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="webhookdelivery",
                name="endpoint",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="deliveries",
                    to="integrations.webhookendpoint",
                ),
            ),
            migrations.AlterField(
                model_name="webhookdelivery",
                name="event",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="+",
                    to="inbox.event",
                ),
            ),
            indexes={
                "integrations_webhookdelivery_endpoint_id_a6031765": (
                    "integrations_webhookdelivery",
                    "endpoint_id",
                ),
                "integrations_webhookdelivery_event_id_233f606b": (
                    "integrations_webhookdelivery",
                    "event_id",
                ),
            },
        ),
        DropPatternTwins(
            {
                "integrations_webhookdelivery_webhook_id_6db7c388_like": (
                    "integrations_webhookdelivery",
                    "webhook_id",
                ),
            }
        ),
    ]
