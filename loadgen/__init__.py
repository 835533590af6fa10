"""Development tooling (like Zulip's zilencer): `manage.py generate_load` and `seed_demo`.

The load generator's public entry is `loadgen.runs`. Nothing in the product imports this app.
"""
