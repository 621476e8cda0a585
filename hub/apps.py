"""App configurations of the project package itself (see INSTALLED_APPS)."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HubAdminConfig(AdminConfig):
    """Django's admin, whose `admin.site` is the hub's site (second factor for staff)."""

    default_site = "hub.auth.HubAdminSite"


class HubConfig(AppConfig):
    """The project package as an app: its security log receivers and management commands."""

    name = "hub"
    verbose_name = "Resource Hub"

    def ready(self) -> None:
        from hub import auth  # noqa: F401  (connects the security log's signal receivers)
