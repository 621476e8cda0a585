"""The resources app's configuration."""

from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    """Connects the signal receivers that keep cached public pages current."""

    default = True
    name = "resources"

    def ready(self) -> None:
        from . import signals

        signals.connect()
