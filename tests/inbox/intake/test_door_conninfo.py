"""The accept door connects to PostgreSQL on its own (async psycopg): with the TLS and session
parameters of DATABASE_URL (sslmode, sslrootcert, options, ...), as Django does, never without."""

import dj_database_url
import psycopg
import pytest
from django.db import connection
from psycopg.conninfo import conninfo_to_dict

from inbox.intake.doors.asgi import conninfo

URL = (
    "postgres://inbox:s3cret@db.example.com:6432/switchboard?sslmode=verify-full"
    "&sslrootcert=/etc/ssl/certs/db-ca.pem&options=-c%20statement_timeout%3D5000"
    "&application_name=switchboard-door"
)


def settings_dict(url: str) -> dict:
    """What config/settings.py makes of DATABASE_URL: dj-database-url's dict plus the pool."""
    db = dj_database_url.parse(url)
    db.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 8, "timeout": 10.0}
    return db


def test_the_door_keeps_tls_and_session_parameters_of_database_url():
    assert conninfo_to_dict(conninfo(settings_dict(URL))) == {
        "dbname": "switchboard",
        "user": "inbox",
        "password": "s3cret",
        "host": "db.example.com",
        "port": "6432",
        "sslmode": "verify-full",
        "sslrootcert": "/etc/ssl/certs/db-ca.pem",
        "options": "-c statement_timeout=5000",
        "application_name": "switchboard-door",
    }


def test_a_plain_url_gives_a_plain_conninfo():
    assert conninfo_to_dict(conninfo(settings_dict("postgres://postgres@127.0.0.1:5432/x"))) == {
        "dbname": "x",
        "user": "postgres",
        "host": "127.0.0.1",
        "port": "5432",
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_server_sees_the_options_of_database_url():
    db = connection.settings_dict
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
    url = (
        f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        "?sslmode=disable&options=-c%20statement_timeout%3D4321&application_name=door-probe"
    )
    with psycopg.connect(conninfo(settings_dict(url))) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"
        assert conn.execute("SHOW application_name").fetchone()[0] == "door-probe"
        assert conn.info.get_parameters()["application_name"] == "door-probe"
