from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The agents' pages: views, URL confs and template tags, no models."""

    name = "workspace"
    verbose_name = "Agents' workspace"
