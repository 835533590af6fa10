"""What the REST twins of the scoped libraries share: canned responses (inbox.canned_api) and
macros (routing.macro_api), each personal, for a team or for everyone (inbox.canned's scopes).
The output's scope, team, owner and can_edit; a save that validates, fills a partial change in
from what is saved, and turns the service's refusals into a 403 or a 400."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError

from inbox.canned import led_team_ids, may_manage, scope_of


# The methods behind an output serializer's SerializerMethodFields scope, team, owner and
# can_edit (it declares them, after its own fields). A comment, not a docstring: drf-spectacular
# would show a docstring as the description of every serializer that mixes this in.
class ScopedFields:
    def get_scope(self, obj) -> str:
        return scope_of(obj)

    def get_team(self, obj) -> str | None:
        return obj.team.slug if obj.team_id else None

    def get_owner(self, obj) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None

    def get_can_edit(self, obj) -> bool:
        user = self.context["request"].user
        if "led" not in self.context:  # once per list, not per row
            self.context["led"] = led_team_ids(user)
        return may_manage(
            user, scope=scope_of(obj), team=obj.team, owner=obj.owner, led=self.context["led"]
        )


@contextmanager
def refusals() -> Iterator[None]:
    """The service's PermissionDenied as a 403, its ValidationError as a 400 keyed by field."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


def save(request, input_serializer, service: Callable, *, saved=None, fields: tuple[str, ...] = ()):
    """Validate the request with `input_serializer` and call `service(actor=..., **values)`.
    With `saved` (the item a PATCH changes) the change is partial: its `fields`, scope and team
    keep their saved values unless the request names them."""
    data = input_serializer(data=request.data, partial=saved is not None)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    if saved is not None:
        current = {name: getattr(saved, name) for name in fields}
        current.update(scope=scope_of(saved), team=saved.team)
        given = {**current, **{k: v for k, v in given.items() if k in request.data}}
    with refusals():
        return service(actor=request.user, **given)
