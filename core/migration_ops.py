"""Migration operations that drop indexes nothing needs. Applied migrations call these: change
what they do only in a way that leaves an applied migration's result as it was."""

from django.db import migrations


def fk_indexes_dropped(
    *fields: migrations.AlterField, indexes: dict[str, tuple[str, str]]
) -> migrations.SeparateDatabaseAndState:
    """Foreign keys set to db_index=False because a wider index already leads with their column
    (Django adds an index per foreign key; each costs every insert of its table and answers
    nothing the wider one does not). `fields` are the AlterFields for the state; `indexes` maps
    each dropped index's name to its (table, column). The database only drops the index:
    Django's AlterField would also drop and re-validate the foreign key, a scan of the whole
    table under an exclusive lock."""
    return migrations.SeparateDatabaseAndState(
        state_operations=list(fields),
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{name}"',
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
            )
            for name, (table, column) in indexes.items()
        ],
    )


class DropPatternTwins(migrations.operations.base.Operation):
    """Drop the varchar_pattern_ops twins that Django adds on PostgreSQL beside the index of an
    indexed or unique text column, for LIKE 'prefix%' searches. `twins` maps each twin's name to
    its (table, column). Nothing changes elsewhere (SQLite has no twins) nor in the state."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, twins: dict[str, tuple[str, str]]):
        self.twins = twins

    def deconstruct(self):
        return self.__class__.__name__, [], {"twins": self.twins}

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for name in self.twins:
                schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            for name, (table, column) in self.twins.items():
                schema_editor.execute(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)'
                )

    def describe(self):
        return f"Drop the prefix-search twins {', '.join(self.twins)}"


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """AddIndex that builds the index with CREATE INDEX CONCURRENTLY on PostgreSQL, so a large
    table keeps taking writes while it is built (the migration must be `atomic = False`); a plain
    CREATE INDEX elsewhere (SQLite has one writer anyway)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)
