"""The one application error: an action the product refuses, with the reason in words for the
person who asked (an agent, an admin, an integration). Views turn it into a 400 with the text as
`detail`, the pages into a message next to the control."""


class ActionRefused(Exception):
    """The action cannot be done now; str(exc) says why, for the person who asked."""
