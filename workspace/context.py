"""Template context for every page: the bell's unread count, read only when a page shows it."""

from django.utils.functional import SimpleLazyObject

from routing.notifications import unread_count, unread_label


def notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def bell() -> dict:
        count = unread_count(user)
        return {"count": count, "label": unread_label(count)}

    return {"bell": SimpleLazyObject(bell)}
