"""Foreign-key indexes a wider index already leads with (core.migration_ops.fk_indexes_dropped)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import fk_indexes_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        fk_indexes_dropped(
            migrations.AlterField(
                model_name="apitoken",
                name="user",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="api_tokens",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
            migrations.AlterField(
                model_name="membership",
                name="user",
                field=models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="memberships",
                    to=settings.AUTH_USER_MODEL,
                ),
            ),
            indexes={
                "accounts_apitoken_user_id_bbee13e0": ("accounts_apitoken", "user_id"),
                "accounts_membership_user_id_487fb39e": ("accounts_membership", "user_id"),
            },
        ),
    ]
