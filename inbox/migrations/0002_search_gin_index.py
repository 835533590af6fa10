from django.db import migrations


def create_gin(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite searches by substring; see inbox/search.py
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS conv_search_gin ON inbox_conversation USING gin (search_vector)"
    )


def drop_gin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS conv_search_gin")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]
    operations = [migrations.RunPython(create_gin, drop_gin)]
