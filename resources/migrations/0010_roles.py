"""The three editorial roles as groups with exact permissions (issue #4).

Permissions are normally created after `migrate` (post_migrate), so this migration creates
them itself first. The lists are a frozen copy of resources/editorial/roles.py as it was when written;
tests/editorial/test_roles.py fails if the two drift apart. Reversing deletes the three groups only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR = "Editor"
CLINICAL_REVIEWER = "Clinical reviewer"
SITE_ADMIN = "Site admin"

EDITOR_PERMISSIONS = (
    "resources.add_resource",
    "resources.change_resource",
    "resources.view_resource",
    "resources.add_organisation",
    "resources.change_organisation",
    "resources.view_organisation",
    "resources.view_tag",
    "resources.view_linkcheck",
    "resources.view_transition",
)
CLINICAL_REVIEWER_PERMISSIONS = (
    *EDITOR_PERMISSIONS,
    "resources.review_resource",
    "resources.publish_resource",
)
SITE_ADMIN_APPS = ("auth", "resources", "admin", "otp_totp", "axes")


def _permissions(Permission, names):
    wanted = [name.split(".", 1) for name in names]
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in wanted]
        )
    }
    missing = [f"{app}.{codename}" for app, codename in wanted if (app, codename) not in found]
    if missing:
        raise RuntimeError(f"Permissions missing while creating roles: {missing}")
    return [found[(app, codename)] for app, codename in wanted]


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        # Historical app configs have no models module, and create_permissions skips those.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    roles = {
        EDITOR: _permissions(Permission, EDITOR_PERMISSIONS),
        CLINICAL_REVIEWER: _permissions(Permission, CLINICAL_REVIEWER_PERMISSIONS),
        SITE_ADMIN: list(Permission.objects.filter(content_type__app_label__in=SITE_ADMIN_APPS)),
    }
    for name, permissions in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[EDITOR, CLINICAL_REVIEWER, SITE_ADMIN]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0009_workflow_history_links_images"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("otp_totp", "0003_add_timestamps"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
