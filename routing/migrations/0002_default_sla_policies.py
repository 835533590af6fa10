from django.db import migrations

# (severity rank, name, first response, next response, resolution) in minutes.
DEFAULTS = [
    (4, "Critical", 30, 60, 8 * 60),
    (3, "High", 2 * 60, 4 * 60, 24 * 60),
    (2, "Normal", 8 * 60, 12 * 60, 3 * 24 * 60),
    (1, "Low", 24 * 60, 24 * 60, 7 * 24 * 60),
]


def create_default_policies(apps, schema_editor):
    SLAPolicy = apps.get_model("routing", "SLAPolicy")
    for severity, name, first, following, resolution in DEFAULTS:
        if not SLAPolicy.objects.filter(severity=severity).exists():
            SLAPolicy.objects.create(
                name=name,
                severity=severity,
                first_response_minutes=first,
                next_response_minutes=following,
                resolution_minutes=resolution,
            )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(create_default_policies, migrations.RunPython.noop)]
