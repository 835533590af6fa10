"""Channels group names for the agents' live feed (ASCII, under 100 characters)."""

ALL = "feed.all"
NO_TEAM = "feed.team.none"


def team(team_id: int | None) -> str:
    return NO_TEAM if team_id is None else f"feed.team.{team_id}"


def user(user_id: int) -> str:
    return f"feed.user.{user_id}"


def conversation(conversation_id: int) -> str:
    return f"feed.conversation.{conversation_id}"


def notifications(user_id: int) -> str:
    """One person's bell: every socket of theirs joins it, whatever else it sees."""
    return f"feed.notify.{user_id}"
