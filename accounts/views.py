"""Account pages that differ from Django's own."""

from django.contrib.auth import views as auth_views


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link that was already used, has expired or never existed answers 410 Gone (the
    page still says so and offers a new link), not a 200 that looks like success."""

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        context = getattr(response, "context_data", None) or {}
        if context.get("validlink") is False:
            response.status_code = 410
        return response
