"""The movement flags of docs/domain.md, in every site language.

Editors tag a resource with the movements it includes; a visitor who says where the cancer is
in their bones then sees the warnings that apply (resources/catalogue/personal.py). Source: the trial
protocol's adaptation table (after Galvão et al. 2011). A clinician reviews the wording before
launch; editors change it in the admin.

Safe to run again: a missing flag is created, a column that already holds text is left as it
is (an editor's wording is never overwritten). Works on the historical model and on the live
one (the browser tests re-run `seed` after each flush): it writes through a plain QuerySet,
which takes the column names as written.
"""

from django.db import migrations, models
from django.db.models import Q

VOCABULARY = "flag"
LANGUAGES = ("en", "de", "nl", "es", "pl", "sv")

# slug -> language -> (name, description), in display order.
FLAGS = {
    "loaded-spine": {
        "en": (
            "Loaded bending or twisting of the spine",
            "Bending forward or backward, or twisting, with weight or against resistance.",
        ),
        "de": (
            "Belastetes Beugen oder Drehen der Wirbelsäule",
            "Vorbeugen, Zurückbeugen oder Drehen mit Gewicht oder gegen Widerstand.",
        ),
        "nl": (
            "Buigen of draaien van de wervelkolom met belasting",
            "Voorover of achterover buigen, of draaien, met gewicht of tegen weerstand.",
        ),
        "es": (
            "Flexión o giro de la columna con carga",
            "Inclinarse hacia delante o hacia atrás, o girar, con peso o contra resistencia.",
        ),
        "pl": (
            "Zginanie lub skręcanie kręgosłupa z obciążeniem",
            "Pochylanie do przodu lub do tyłu albo skręty z ciężarem lub pokonując opór.",
        ),
        "sv": (
            "Böjning eller vridning av ryggen med belastning",
            "Böja framåt eller bakåt, eller vrida, med vikt eller mot motstånd.",
        ),
    },
    "loaded-hip": {
        "en": (
            "Loaded hip movement",
            "Moving the hip with weight or against resistance (pelvis or upper thigh bone).",
        ),
        "de": (
            "Belastete Hüftbewegung",
            "Bewegung der Hüfte mit Gewicht oder gegen Widerstand (Becken oder oberer Oberschenkelknochen).",
        ),
        "nl": (
            "Heupbeweging met belasting",
            "De heup bewegen met gewicht of tegen weerstand (bekken of bovenste deel van het dijbeen).",
        ),
        "es": (
            "Movimiento de cadera con carga",
            "Mover la cadera con peso o contra resistencia (pelvis o parte superior del fémur).",
        ),
        "pl": (
            "Ruch biodra z obciążeniem",
            "Ruch w stawie biodrowym z ciężarem lub pokonując opór (miednica lub górna część kości udowej).",
        ),
        "sv": (
            "Höftrörelse med belastning",
            "Röra höften med vikt eller mot motstånd (bäckenet eller övre delen av lårbenet).",
        ),
    },
    "loaded-shoulder": {
        "en": (
            "Loaded shoulder movement",
            "Moving the shoulder with weight or against resistance (upper arm, ribs, upper back).",
        ),
        "de": (
            "Belastete Schulterbewegung",
            "Bewegung der Schulter mit Gewicht oder gegen Widerstand (Oberarm, Rippen, oberer Rücken).",
        ),
        "nl": (
            "Schouderbeweging met belasting",
            "De schouder bewegen met gewicht of tegen weerstand (bovenarm, ribben, bovenrug).",
        ),
        "es": (
            "Movimiento de hombro con carga",
            "Mover el hombro con peso o contra resistencia (brazo, costillas, parte alta de la espalda).",
        ),
        "pl": (
            "Ruch barku z obciążeniem",
            "Ruch w stawie barkowym z ciężarem lub pokonując opór (ramię, żebra, górna część pleców).",
        ),
        "sv": (
            "Axelrörelse med belastning",
            "Röra axeln med vikt eller mot motstånd (överarm, revben, övre delen av ryggen).",
        ),
    },
    "impact": {
        "en": ("Impact, jumping or running", "Movements where the feet hit the ground hard."),
        "de": (
            "Stöße, Springen oder Laufen",
            "Bewegungen, bei denen die Füße hart auf dem Boden aufkommen.",
        ),
        "nl": (
            "Schokken, springen of hardlopen",
            "Bewegingen waarbij de voeten hard op de grond neerkomen.",
        ),
        "es": (
            "Impacto, saltos o correr",
            "Movimientos en los que los pies golpean fuerte el suelo.",
        ),
        "pl": (
            "Wstrząsy, skoki lub bieganie",
            "Ruchy, przy których stopy mocno uderzają o podłoże.",
        ),
        "sv": ("Stötar, hopp eller löpning", "Rörelser där fötterna slår hårt i marken."),
    },
    "heavy-load": {
        "en": ("Heavy weights", "Weights of about 80 % of the most you can lift, or more."),
        "de": ("Schwere Gewichte", "Gewichte ab etwa 80 % dessen, was Sie höchstens heben können."),
        "nl": (
            "Zware gewichten",
            "Gewichten vanaf ongeveer 80 % van het meeste dat u kunt tillen.",
        ),
        "es": (
            "Pesos elevados",
            "Pesos de alrededor del 80 % de lo máximo que puede levantar, o más.",
        ),
        "pl": ("Duże ciężary", "Ciężary od około 80 % tego, co można maksymalnie podnieść."),
        "sv": ("Tunga vikter", "Vikter från ungefär 80 % av det mesta du kan lyfta."),
    },
    "fall-risk": {
        "en": (
            "Risk of falling",
            "Balance without support, uneven ground, or getting down to the floor.",
        ),
        "de": (
            "Sturzgefahr",
            "Gleichgewicht ohne Halt, unebener Boden oder Hinlegen auf den Boden.",
        ),
        "nl": (
            "Kans op vallen",
            "Evenwicht zonder steun, oneffen ondergrond of op de grond gaan liggen.",
        ),
        "es": ("Riesgo de caída", "Equilibrio sin apoyo, suelo irregular o bajar hasta el suelo."),
        "pl": (
            "Ryzyko upadku",
            "Równowaga bez podparcia, nierówne podłoże lub schodzenie na podłogę.",
        ),
        "sv": ("Risk för fall", "Balans utan stöd, ojämnt underlag eller att gå ner på golvet."),
    },
    "end-range-stretch": {
        "en": (
            "Bouncing or deep stretching",
            "Bouncing movements, or stretching as far as the joint goes.",
        ),
        "de": (
            "Federn oder starkes Dehnen",
            "Federnde Bewegungen oder Dehnen bis zum Ende der Beweglichkeit.",
        ),
        "nl": (
            "Veren of diep rekken",
            "Verende bewegingen, of rekken zo ver als het gewricht gaat.",
        ),
        "es": (
            "Rebotes o estiramientos al máximo",
            "Movimientos con rebote, o estirar hasta el límite de la articulación.",
        ),
        "pl": (
            "Sprężynowanie lub głębokie rozciąganie",
            "Ruchy sprężynujące lub rozciąganie do granic ruchomości stawu.",
        ),
        "sv": (
            "Gungande eller djup stretching",
            "Gungande rörelser, eller stretching så långt leden går.",
        ),
    },
}


def _empty(column):
    return Q(**{f"{column}__isnull": True}) | Q(**{column: ""})


def seed(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    tags = models.QuerySet(Tag)
    for position, (slug, languages) in enumerate(FLAGS.items(), start=1):
        term = tags.filter(vocabulary=VOCABULARY, slug=slug)
        if not term.exists():
            tags.bulk_create([Tag(vocabulary=VOCABULARY, slug=slug, position=position)])
        english_name, english_description = languages["en"]
        term.filter(name="").update(name=english_name)
        term.filter(description="").update(description=english_description)
        for language, (name, description) in languages.items():
            for field, text in (("name", name), ("description", description)):
                column = f"{field}_{language}"
                term.filter(_empty(column)).update(**{column: text})


def unseed(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    models.QuerySet(Tag).filter(vocabulary=VOCABULARY, slug__in=list(FLAGS)).delete()


class Migration(migrations.Migration):
    dependencies = [("resources", "0007_captions_transcripts_translations_flags")]
    operations = [migrations.RunPython(seed, unseed)]
