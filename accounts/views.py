"""Account pages that differ from Django's own."""

from django.contrib.auth import views as auth_views

from accounts.lockout import password_reset_refused_for
from core.ratelimit import too_many_for


class PasswordResetView(auth_views.PasswordResetView):
    """Reset requests are limited per IP and per email address (`password_reset` rate): 429 with
    Retry-After over it, and no mail."""

    def form_valid(self, form):
        wait = password_reset_refused_for(self.request, form.cleaned_data["email"])
        if wait:
            return too_many_for(
                self.request,
                wait,
                title="Too many reset requests",
                text="No more password reset mails can be sent to this address or from here "
                "for a while.",
            )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link that was already used, has expired or never existed answers 410 Gone (the
    page still says so and offers a new link), not a 200 that looks like success."""

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        context = getattr(response, "context_data", None) or {}
        if context.get("validlink") is False:
            response.status_code = 410
        return response


class InviteAcceptView(PasswordResetConfirmView):
    """The link in an invitation (accounts.people.invite_user): the invited person chooses a
    password, and their account becomes active. Used or expired links answer 410 like a reset.
    Only for someone invited who never joined: a reset token of a person an admin switched off
    must not switch them back on."""

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or user.is_active or user.has_usable_password() or user.last_login:
            return None
        return user

    def form_valid(self, form):
        form.user.is_active = True  # saved with the new password by SetPasswordForm.save()
        return super().form_valid(form)
