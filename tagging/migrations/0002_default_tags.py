from django.db import migrations

from tagging.models import DEFAULT_TAGS


def create_default_tags(apps, schema_editor):
    Tag = apps.get_model("tagging", "Tag")
    for slug, name, color, description in DEFAULT_TAGS:
        Tag.objects.update_or_create(
            slug=slug, defaults={"name": name, "color": color, "description": description, "is_default": True}
        )


class Migration(migrations.Migration):
    dependencies = [("tagging", "0001_initial")]
    operations = [migrations.RunPython(create_default_tags, migrations.RunPython.noop)]
