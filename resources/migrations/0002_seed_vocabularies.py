"""Seed the controlled vocabularies with the stable slugs from docs/domain.md.

The slugs are a public contract (they appear in URLs clinics print); names and
descriptions may be edited later in the admin.
"""

from django.db import migrations

VOCABULARIES = {
    "level": [
        ("bed-or-chair", "Bed or chair based", "Breathing, range of motion, seated strength with light bands."),
        ("gentle", "Gentle: seated and supported standing", "Chair exercises, supported balance, short walks."),
        ("moderate", "Moderate", "Brisk walking, light resistance, standing balance, low-impact cardio."),
        ("structured", "Structured training (supervised)", "Interval cycling and progressive machine resistance, as in the trial."),
    ],
    "stage": [
        ("early", "Early breast cancer (stages I–II)", ""),
        ("locally-advanced", "Locally advanced (stage III)", ""),
        ("metastatic", "Metastatic (stage IV, secondary breast cancer)", ""),
    ],
    "type": [
        ("aerobic", "Aerobic", "Activity that raises your breathing and heart rate, such as walking or cycling."),
        ("strength", "Strength", "Working your muscles against a resistance: body weight, bands, weights or machines."),
        ("balance", "Balance", "Practising steadiness, to lower the risk of falls."),
        ("flexibility", "Flexibility", "Gentle stretching and moving joints through their range."),
        ("breathing", "Breathing and relaxation", "Calm breathing and relaxation exercises."),
    ],
}


def seed(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    for vocabulary, terms in VOCABULARIES.items():
        for position, (slug, name, description) in enumerate(terms):
            Tag.objects.update_or_create(
                vocabulary=vocabulary,
                slug=slug,
                defaults={"name": name, "description": description, "position": position},
            )


def unseed(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    for vocabulary, terms in VOCABULARIES.items():
        Tag.objects.filter(vocabulary=vocabulary, slug__in=[t[0] for t in terms]).delete()


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
