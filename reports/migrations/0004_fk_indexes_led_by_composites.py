"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped):
the tag of the four rollup tables, each led by its (tag, ...) index."""

import django.db.models.deletion
from django.db import migrations, models

from core.migration_ops import fk_indexes_dropped

INDEXES = {
    "dailyrollup": "reports_dailyrollup_tag_id_8466be88",
    "durationhistogram": "reports_durationhistogram_tag_id_5e25df97",
    "hourlyarrivals": "reports_hourlyarrivals_tag_id_f7f9278e",
    "teamdurationhistogram": "reports_teamdurationhistogram_tag_id_4cc228c5",
}


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_csat_counts_team_histogram"),
        ("tagging", "0005_fk_indexes_led_by_composites"),
    ]

    operations = [
        fk_indexes_dropped(
            *(
                migrations.AlterField(
                    model_name=model,
                    name="tag",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tagging.tag",
                    ),
                )
                for model in INDEXES
            ),
            indexes={name: (f"reports_{model}", "tag_id") for model, name in INDEXES.items()},
        ),
    ]
