import pytest


def test_healthz_is_up_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database(client, settings):
    settings.EMBEDDED = True
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.EMBEDDED = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_checks_the_broker_when_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_api_404_is_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/conversations/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


@pytest.mark.parametrize("path", ["/inbox/", "/api/v1/conversations/"])
def test_a_database_out_of_reach_is_a_503_to_retry_not_a_500(path):
    """Every pooled connection busy past DB_POOL_TIMEOUT (or the database down) fails a request
    with an OperationalError: the person or program hears 503 and when to try again."""
    from django.db import OperationalError
    from django.test import RequestFactory

    from config.errors import server_error

    try:
        raise OperationalError("couldn't get a connection after 1.50 sec")
    except OperationalError:
        response = server_error(RequestFactory().get(path))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.content.decode().lower()
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(RequestFactory().get(path)).status_code == 500
