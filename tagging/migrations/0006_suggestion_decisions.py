"""Agents' answers to suggested tags (issue 24): accepted or dismissed, one per conversation and tag."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0011_inbound_event_partition"),
        ("tagging", "0005_fk_indexes_led_by_composites"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SuggestionDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[("learned", "Learned"), ("rule", "Rule")], max_length=8
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[("accepted", "Accepted"), ("dismissed", "Dismissed")],
                        max_length=10,
                    ),
                ),
                (
                    "score",
                    models.FloatField(help_text="The suggestion's score when it was shown (0..1)."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tag_suggestion_decisions",
                        to="inbox.conversation",
                    ),
                ),
                (
                    "tag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tagging.tag",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("conversation", "tag"), name="suggestion_decision_unique"
                    )
                ],
            },
        ),
    ]
