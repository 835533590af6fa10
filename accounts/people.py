"""Teams and people, for the settings page and /api/v1/teams|users|memberships/: create and
rename teams, invite an agent by email, set a person's role, capacity and time zone, and who is
in which team. Admins may do all of it; a team's leads may change that team's memberships.
Errors are ValidationError keyed by field, or PermissionDenied."""

import logging
import smtplib
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Membership, SurveyKind, Team, User
from accounts.permissions import can_administer, require_admin
from core import languages

audit = logging.getLogger("switchboard.audit")

ROLES = [value for value, _label in User.Role.choices]
MEMBERSHIP_ROLES = [value for value, _label in Membership.Role.choices]
MAX_CAPACITY = 500


def leads_a_team(actor: User) -> bool:
    """An active lead of at least one team (who may manage that team's members)."""
    return bool(
        actor.is_authenticated
        and actor.is_active
        and actor.role != User.Role.VIEWER
        and Membership.objects.filter(user=actor, role=Membership.Role.LEAD).exists()
    )


def may_manage_team(actor: User, team: Team) -> bool:
    """Admins manage every team's memberships, leads their own teams'."""
    if can_administer(actor):
        return True
    return bool(
        actor.is_active
        and actor.role != User.Role.VIEWER
        and Membership.objects.filter(user=actor, team=team, role=Membership.Role.LEAD).exists()
    )


def save_team(
    *,
    actor: User,
    team: Team | None = None,
    name: str,
    slug: str = "",
    survey_kind: str | None = None,
) -> Team:
    """Create a team (slug from the name when not given) or rename one; `survey_kind` (when
    given) is the survey after its resolutions: csat, nps, ces, or "" for the channel's."""
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("A team needs a name.")]})
    if len(name) > 120:
        raise ValidationError({"name": [_("At most 120 characters.")]})
    if survey_kind is not None and survey_kind not in {"", *SurveyKind.values}:
        raise ValidationError(
            {"survey_kind": [_("Choose one of: %s.") % ", ".join(SurveyKind.values)]}
        )
    if team is None:
        slug = slugify(slug or name)[:64]
        if not slug:
            raise ValidationError({"slug": [_("Give a slug of letters, digits and dashes.")]})
        if Team.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": [_("A team with this slug already exists.")]})
        team = Team.objects.create(slug=slug, name=name, survey_kind=survey_kind or "")
        audit.info("team created: actor=%s team=%s", actor.get_username(), slug)
        return team
    team.name = name
    fields = ["name"]
    if survey_kind is not None:
        team.survey_kind = survey_kind
        fields.append("survey_kind")
    team.save(update_fields=fields)
    audit.info(
        "team saved: actor=%s team=%s survey=%s",
        actor.get_username(),
        team.slug,
        team.survey_kind or "-",
    )
    return team


def _clean_profile(role: str | None, capacity, time_zone: str | None) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict = {}
    if role is not None:
        if role not in ROLES:
            errors["role"] = [_("Choose one of: %s.") % ", ".join(ROLES)]
        values["role"] = role
    if capacity is not None:
        try:
            number = int(capacity)
        except (TypeError, ValueError):
            number = -1
        if not 0 <= number <= MAX_CAPACITY:
            errors["capacity"] = [_("A whole number from 0 to %d.") % MAX_CAPACITY]
        values["capacity"] = number
    if time_zone is not None:
        time_zone = time_zone.strip()
        if time_zone and time_zone not in available_timezones():
            errors["time_zone"] = [_("%r is not a time zone we know.") % time_zone]
        values["time_zone"] = time_zone
    if errors:
        raise ValidationError(errors)
    return values


def invite_link(user: User) -> str:
    """The one-time link that lets an invited person choose a password (Django's password reset
    token: it stops working once a password is set)."""
    path = reverse(
        "invite_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PUBLIC_BASE_URL + path


def invite_user(
    *,
    actor: User,
    email: str,
    name: str = "",
    role: str = User.Role.AGENT,
    capacity=None,
    time_zone: str = "",
    team: Team | None = None,
) -> User:
    """Create the person inactive with no usable password and mail them a set-password link;
    they become active when they set it (accounts.views.InviteAcceptView)."""
    require_admin(actor)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Give a valid email address.")]}) from None
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise ValidationError({"email": [_("Someone with this address already has an account.")]})
    values = _clean_profile(role, capacity, time_zone)
    first, _sep, last = (name or "").strip().partition(" ")
    with transaction.atomic():
        user = User(username=email, email=email, first_name=first[:150], last_name=last[:150])
        user.is_active = False
        user.set_unusable_password()
        for field, value in values.items():
            setattr(user, field, value)
        try:
            user.save()
        except IntegrityError:
            raise ValidationError(
                {"email": [_("Someone with this address already has an account.")]}
            ) from None
        if team is not None:
            Membership.objects.create(user=user, team=team)
        try:  # inside the transaction: no mail, no account
            _send_invitation(actor, user)
        except (OSError, smtplib.SMTPException) as exc:
            raise ValidationError(
                {
                    "email": [
                        _("The invitation mail could not be sent (%s); nobody was added.") % exc
                    ]
                }
            ) from None
    audit.info("user invited: actor=%s user=%s", actor.get_username(), user.username)
    return user


def _send_invitation(actor: User, user: User) -> None:
    """The invitation, in the invited person's language when set, else the inviter's (who most
    likely shares it), else the site's."""
    language = languages.supported(user.language) or languages.of_person(actor)
    with languages.speaking(language):
        subject = _("You are invited to Switchboard")
        body = _(
            "%(who)s invited you to answer customers with Switchboard.\n\n"
            "Choose your password here to start:\n%(link)s\n\n"
            "Your sign-in name is %(username)s. The link works once."
        ) % {"who": actor.display_name, "link": invite_link(user), "username": user.username}
    send_mail(subject, body, None, [user.email])


def resend_invitation(*, actor: User, user: User) -> None:
    """Mail an invited person a fresh link (the first one may have expired or been lost)."""
    require_admin(actor)
    if user.is_active or user.has_usable_password():
        raise ValidationError({"user": [_("%s has already joined.") % user.get_username()]})
    try:
        _send_invitation(actor, user)
    except (OSError, smtplib.SMTPException) as exc:
        raise ValidationError(
            {"email": [_("The invitation mail could not be sent (%s).") % exc]}
        ) from None
    audit.info("invitation resent: actor=%s user=%s", actor.get_username(), user.username)


def update_user(
    *, actor: User, user: User, role: str | None = None, capacity=None, time_zone=None
) -> User:
    require_admin(actor)
    values = _clean_profile(role, capacity, time_zone)
    if (
        "role" in values
        and user.pk == actor.pk
        and values["role"] != User.Role.ADMIN
        and not actor.is_superuser
    ):
        raise ValidationError({"role": [_("You cannot take away your own admin role.")]})
    for field, value in values.items():
        setattr(user, field, value)
    if values:
        user.save(update_fields=list(values))
        audit.info("user updated: actor=%s user=%s %s", actor.get_username(), user, values)
    return user


def set_membership(*, actor: User, team: Team, user: User, role: str = "member") -> Membership:
    """Put `user` in `team` with `role`, or change their role there."""
    if not may_manage_team(actor, team):
        raise PermissionDenied(_("Only admins and this team's leads may change its members."))
    if role not in MEMBERSHIP_ROLES:
        raise ValidationError({"role": [_("Choose one of: %s.") % ", ".join(MEMBERSHIP_ROLES)]})
    membership, _created = Membership.objects.update_or_create(
        user=user, team=team, defaults={"role": role}
    )
    audit.info("membership set: actor=%s team=%s user=%s role=%s", actor, team.slug, user, role)
    return membership


def remove_membership(*, actor: User, membership: Membership) -> None:
    if not may_manage_team(actor, membership.team):
        raise PermissionDenied(_("Only admins and this team's leads may change its members."))
    membership.delete()
    audit.info("membership removed: actor=%s %s", actor.get_username(), membership)
