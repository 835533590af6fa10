from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from accounts import views as accounts_views
from config import health
from config.api_docs import RedocDocsView, SwaggerDocsView
from config.i18n_catalog import VersionedJavaScriptCatalog
from config.metrics import metrics_view
from inbox.chat import views as chat_views
from loadgen.partner import partner_callback
from workspace.views import drafts as workspace_drafts

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # The djangojs catalogue (locale/*/LC_MESSAGES/djangojs.po) in the page's language, kept by
    # the browser when asked for at its current version (config/i18n_catalog.py).
    path("jsi18n/", VersionedJavaScriptCatalog.as_view(), name="jsi18n"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", workspace_drafts.LogoutView.as_view(), name="logout"),
    path("password-reset/", accounts_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "invite/<uidb64>/<token>/",
        accounts_views.InviteAcceptView.as_view(),
        name="invite_accept",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("config.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="api-redoc"),
    path("webhooks/", include("inbox.intake.urls")),
    path("inbox/", include("workspace.urls")),
    path("inbox/", include("workspace.inbox_urls")),
    path("chat/", include("inbox.chat.urls")),
    path("files/", include("inbox.outbound.urls")),
    path("settings/", include("integrations.ui_urls")),
    path("reports/", include("reports.urls")),
    path("survey/", include("reports.survey_urls")),
    path("demo/chat/", chat_views.demo_page, name="chat-demo"),
    path("demo/partner-callback/", partner_callback, name="demo-partner-callback"),
    path("", RedirectView.as_view(pattern_name="ui:inbox", permanent=False), name="home"),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
handler400 = "config.errors.bad_request"
