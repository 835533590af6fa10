"""Feature requests a person acted on (issue 24, part 2): status, title, merged and split groups."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0011_inbound_event_partition"),
        ("tagging", "0006_suggestion_decisions"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeatureRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("planned", "Planned"),
                            ("shipped", "Shipped"),
                            ("declined", "Declined"),
                        ],
                        default="new",
                        max_length=10,
                    ),
                ),
                (
                    "customers_messaged_at",
                    models.DateTimeField(
                        blank=True, help_text="When its customers were told it shipped.", null=True
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name="FeatureRequestMember",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="feature_request_member",
                        to="inbox.conversation",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="members",
                        to="tagging.featurerequest",
                    ),
                ),
            ],
        ),
    ]
