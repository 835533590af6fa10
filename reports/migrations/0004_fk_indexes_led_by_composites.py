"""Foreign-key indexes a wider index already leads with (config.migration_ops.fk_indexes_dropped)."""

import django.db.models.deletion
from django.db import migrations, models

from config.migration_ops import fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_csat_counts_team_histogram"),
        ("tagging", "0005_fk_indexes_led_by_composites"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="dailyrollup",
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
            ),
            migrations.AlterField(
                model_name="durationhistogram",
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
            ),
            migrations.AlterField(
                model_name="hourlyarrivals",
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
            ),
            migrations.AlterField(
                model_name="teamdurationhistogram",
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
            ),
            indexes={
                "reports_dailyrollup_tag_id_8466be88": ("reports_dailyrollup", "tag_id"),
                "reports_durationhistogram_tag_id_5e25df97": (
                    "reports_durationhistogram",
                    "tag_id",
                ),
                "reports_hourlyarrivals_tag_id_f7f9278e": ("reports_hourlyarrivals", "tag_id"),
                "reports_teamdurationhistogram_tag_id_4cc228c5": (
                    "reports_teamdurationhistogram",
                    "tag_id",
                ),
            },
        ),
    ]
