from django.urls import path

from integrations import views

app_name = "integrations-ui"

urlpatterns = [
    path("webhooks/", views.endpoints_page, name="endpoints"),
    path("webhooks/<int:pk>/", views.endpoint_page, name="endpoint"),
    path("webhooks/<int:pk>/enabled/", views.endpoint_enable, name="endpoint-enable"),
    path("webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("webhooks/<int:pk>/test/", views.endpoint_test, name="endpoint-test"),
    path("webhooks/<int:pk>/replay/", views.endpoint_replay, name="endpoint-replay"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery-replay"),
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
