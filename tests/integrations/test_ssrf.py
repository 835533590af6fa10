"""Server-side request forgery: no URL an admin types reaches an internal address, at save time
or at connect time, and a redirect never leads inward. `listener` is an internal service that
must receive nothing."""

import pytest

from integrations import transport
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.support.http import LocalHTTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    with LocalHTTPServer() as server:
        yield server


@pytest.fixture
def admin_api(client_for, admin_user):
    return client_for(admin_user)


def internal_urls(port):
    return [
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://0.0.0.0:{port}/",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "https://db.internal.test/hook",  # resolves to a private address (see the fixture)
        # IPv6 forms that carry an internal IPv4 address:
        f"http://[64:ff9b::7f00:1]:{port}/",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the metadata address
        "http://[64:ff9b:1::a00:1]/",  # local-use NAT64
        f"http://[2002:7f00:1::1]:{port}/",  # 6to4 of 127.0.0.1
        "http://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
        f"http://[::127.0.0.1]:{port}/",  # IPv4-compatible
        "http://[::ffff:0:a00:1]/",  # IPv4-translated (SIIT) 10.0.0.1
        "http://192.88.99.1/",  # the 6to4 relay anycast
        "https://nat64.internal.test/hook",  # a name whose AAAA is NAT64 of a private address
    ]


@pytest.mark.parametrize("index", range(len(internal_urls(0))))
def test_an_internal_url_is_refused_at_save_with_a_clear_message(
    admin_api, listener, settings, index
):
    settings.WEBHOOK_DNS_OVERRIDES = {
        "db.internal.test": ["192.168.10.5"],
        "nat64.internal.test": ["93.184.216.34", "64:ff9b::c0a8:a05"],
    }
    url = internal_urls(listener.httpd.server_address[1])[index]
    response = admin_api.post(
        "/api/v1/webhook-endpoints/", {"url": url, "events": ["message.created"]}, format="json"
    )
    assert response.status_code == 400, url
    assert "internal address" in response.json()["url"][0]
    assert not WebhookEndpoint.objects.exists()
    assert admin_api.post(f"/api/v1/webhook-endpoints/{1}/test/").status_code == 404
    assert listener.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost"])
def test_only_http_and_https_urls_with_a_host_are_accepted(admin_api, url):
    response = admin_api.post(
        "/api/v1/webhook-endpoints/", {"url": url, "events": ["message.created"]}, format="json"
    )
    assert response.status_code == 400 and response.json()["url"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.2",
        "10.1.1.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::808:808",
        "2002:7f00:1::",
        "2002:a9fe:a9fe::1",
        "2002:c0a8:101:1::1",
        "::127.0.0.1",
        "::10.0.0.1",
        "::ffff:0:7f00:1",
        "::ffff:127.0.0.1",
        "192.88.99.1",
        "2002:c058:6301::1",
    ],
)
def test_every_kind_of_internal_address_is_forbidden(address):
    assert transport.forbidden(address)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34: what DNS64 answers on an IPv6-only host
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    ],
)
def test_public_addresses_are_allowed(address):
    assert not transport.forbidden(address)


@pytest.mark.parametrize(
    "rebound", ["127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1", "::127.0.0.1", "192.88.99.1"]
)
def test_a_name_rebound_to_an_internal_address_after_saving_is_refused_at_connect_time(
    admin_api, listener, settings, note, django_capture_on_commit_callbacks, rebound
):
    port = listener.httpd.server_address[1]
    settings.WEBHOOK_DNS_OVERRIDES = {"hooks.partner.test": ["93.184.216.34"]}
    created = admin_api.post(
        "/api/v1/webhook-endpoints/",
        {"url": f"http://hooks.partner.test:{port}/", "events": ["message.created"]},
        format="json",
    )
    assert created.status_code == 201
    settings.WEBHOOK_DNS_OVERRIDES = {"hooks.partner.test": [rebound]}  # DNS rebinding
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "internal address" in delivery.last_error
    test = admin_api.post(f"/api/v1/webhook-endpoints/{created.json()['id']}/test/")
    assert test.json() == {"status_code": None}
    assert listener.requests == []


def test_a_public_looking_url_that_redirects_inward_reaches_nothing_inside(
    admin_api, http_server, listener, settings, note
):
    # hooks.partner.test is allowed by name and served by http_server; it answers with a
    # redirect to the internal listener, which is not allowed.
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.partner.test"]
    settings.WEBHOOK_DNS_OVERRIDES = {"hooks.partner.test": ["127.0.0.1"]}
    port = http_server.httpd.server_address[1]
    created = admin_api.post(
        "/api/v1/webhook-endpoints/",
        {"url": f"http://hooks.partner.test:{port}/in", "events": ["message.created"]},
        format="json",
    )
    assert created.status_code == 201
    http_server.respond(302, headers={"Location": f"{listener.url}/admin"})
    note()
    [request] = http_server.requests
    assert request.headers["host"] == f"hooks.partner.test:{port}"  # the name, not the address
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_status_code == 302
    http_server.respond(302, headers={"Location": f"{listener.url}/admin"}, body=b"secret page")
    test = admin_api.post(f"/api/v1/webhook-endpoints/{created.json()['id']}/test/")
    assert test.json() == {"status_code": 302}  # only the status comes back
    assert listener.requests == []


def test_without_the_allow_list_the_local_receiver_gets_nothing(
    receiver, admin_user, settings, note
):
    from integrations.services import endpoint_create

    endpoint_create(actor=admin_user, url=f"{receiver.url}/hooks", event_types=["message.created"])
    settings.WEBHOOK_ALLOWED_HOSTS = []
    note()
    assert receiver.requests == []
    assert "internal address" in WebhookDelivery.objects.get().last_error
