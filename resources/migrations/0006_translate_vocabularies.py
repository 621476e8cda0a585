"""Vocabulary names and descriptions in every site language.

For every term, the English name and description move into `name_en` / `description_en` (the
columns django-modeltranslation reads, and falls back to, for English). The terms seeded by
migration 0002 also get their German, Dutch, Spanish, Polish and Swedish names from
TRANSLATIONS: plain words for patients, German in the formal register. A clinician reviews
the wording before launch, as for the English (docs/domain.md); editors change it in the admin.

Safe to run again: a column that already holds text is left as it is, so an editor's wording
is never overwritten, and a term an editor deleted is skipped. The reverse writes the English
name back into the original columns and empties the other languages.

Works on the historical model (during `migrate`) and on the live one (the browser tests re-run
`translate` after each flush, see tests/browser/conftest.py): it reads and writes through a
plain QuerySet, which takes the column names as written.
"""

from django.db import migrations, models
from django.db.models import F, Q

LANGUAGES = ("de", "nl", "es", "pl", "sv")

# vocabulary -> slug -> language -> (name, description). The English is in migration 0002.
# Stages have no description in English, so none here either.
TRANSLATIONS = {
    "level": {
        "bed-or-chair": {
            "de": ("Im Bett oder auf dem Stuhl", "Atemübungen, Beweglichkeit der Gelenke, Kräftigung im Sitzen mit leichten Übungsbändern."),
            "nl": ("In bed of op een stoel", "Ademhaling, de gewrichten bewegen en zittende krachtoefeningen met lichte elastieken banden."),
            "es": ("En la cama o en una silla", "Respiración, movilidad de las articulaciones y ejercicios de fuerza en posición sentada con bandas elásticas ligeras."),
            "pl": ("W łóżku lub na krześle", "Ćwiczenia oddechowe, ruchomość stawów, wzmacnianie mięśni na siedząco z lekkimi taśmami."),
            "sv": ("I sängen eller på en stol", "Andning, rörlighet i lederna och styrkeövningar sittande med lätta gummiband."),
        },
        "gentle": {
            "de": ("Sanft: im Sitzen und im Stehen mit Halt", "Übungen auf dem Stuhl, Gleichgewicht mit Halt, kurze Spaziergänge."),
            "nl": ("Rustig: zittend en staand met steun", "Oefeningen op een stoel, evenwicht met steun, korte wandelingen."),
            "es": ("Suave: en posición sentada y de pie con apoyo", "Ejercicios en una silla, equilibrio con apoyo, paseos cortos."),
            "pl": ("Łagodny: na siedząco i na stojąco z podparciem", "Ćwiczenia na krześle, równowaga z podparciem, krótkie spacery."),
            "sv": ("Lätt: sittande och stående med stöd", "Övningar på stol, balans med stöd, korta promenader."),
        },
        "moderate": {
            "de": ("Mittel", "Zügiges Gehen, leichte Kraftübungen, Gleichgewicht im Stehen, gelenkschonendes Ausdauertraining."),
            "nl": ("Gemiddeld", "Stevig wandelen, lichte krachtoefeningen, evenwicht in stand, conditietraining zonder springen."),
            "es": ("Moderado", "Caminar a paso ligero, ejercicios de fuerza ligeros, equilibrio de pie, ejercicio aeróbico de bajo impacto."),
            "pl": ("Umiarkowany", "Szybki marsz, lekkie ćwiczenia siłowe, równowaga na stojąco, ćwiczenia wytrzymałościowe bez podskoków."),
            "sv": ("Måttlig", "Rask promenad, lätta styrkeövningar, balans stående, konditionsträning utan hopp."),
        },
        "structured": {
            "de": ("Strukturiertes Training (unter Anleitung)", "Intervalltraining auf dem Fahrrad und Krafttraining an Geräten, das Schritt für Schritt gesteigert wird, wie in der Studie."),
            "nl": ("Gestructureerde training (onder begeleiding)", "Intervaltraining op de fiets en krachttraining op apparaten die stap voor stap zwaarder wordt, zoals in het onderzoek."),
            "es": ("Entrenamiento estructurado (supervisado)", "Intervalos en bicicleta y ejercicios de fuerza con máquinas, con una carga que aumenta poco a poco, como en el estudio."),
            "pl": ("Trening według planu (pod nadzorem)", "Trening interwałowy na rowerze i stopniowo zwiększany trening siłowy na maszynach, jak w badaniu."),
            "sv": ("Strukturerad träning (med handledning)", "Intervallträning på cykel och styrketräning i maskiner som ökas steg för steg, som i studien."),
        },
    },
    "stage": {
        "early": {
            "de": ("Früher Brustkrebs (Stadium I–II)", ""),
            "nl": ("Vroege borstkanker (stadium I–II)", ""),
            "es": ("Cáncer de mama precoz (estadios I–II)", ""),
            "pl": ("Wczesny rak piersi (stadium I–II)", ""),
            "sv": ("Tidig bröstcancer (stadium I–II)", ""),
        },
        "locally-advanced": {
            "de": ("Lokal fortgeschrittener Brustkrebs (Stadium III)", ""),
            "nl": ("Lokaal gevorderde borstkanker (stadium III)", ""),
            "es": ("Cáncer de mama localmente avanzado (estadio III)", ""),
            "pl": ("Miejscowo zaawansowany rak piersi (stadium III)", ""),
            "sv": ("Lokalt avancerad bröstcancer (stadium III)", ""),
        },
        "metastatic": {
            "de": ("Metastasierter Brustkrebs (Stadium IV)", ""),
            "nl": ("Uitgezaaide borstkanker (stadium IV)", ""),
            "es": ("Cáncer de mama metastásico (estadio IV)", ""),
            "pl": ("Rak piersi z przerzutami (stadium IV)", ""),
            "sv": ("Spridd bröstcancer (stadium IV, metastaserad)", ""),
        },
    },
    "type": {
        "aerobic": {
            "de": ("Ausdauer", "Bewegung, bei der Ihr Atem und Ihr Herzschlag schneller werden, zum Beispiel Gehen oder Radfahren."),
            "nl": ("Conditie", "Bewegen waarbij u sneller gaat ademen en uw hart sneller klopt, zoals wandelen of fietsen."),
            "es": ("Aeróbico", "Actividad que acelera su respiración y su ritmo cardíaco, como caminar o ir en bicicleta."),
            "pl": ("Wytrzymałość", "Ruch, przy którym przyspiesza oddech i bicie serca, na przykład spacer lub jazda na rowerze."),
            "sv": ("Kondition", "Aktivitet som gör att du andas snabbare och får högre puls, till exempel promenader eller cykling."),
        },
        "strength": {
            "de": ("Kraft", "Ihre Muskeln arbeiten gegen einen Widerstand: Ihr Körpergewicht, Übungsbänder, Gewichte oder Geräte."),
            "nl": ("Kracht", "Uw spieren werken tegen een weerstand: uw eigen lichaamsgewicht, elastieken banden, gewichten of apparaten."),
            "es": ("Fuerza", "Trabajar los músculos contra una resistencia: el peso del propio cuerpo, bandas elásticas, pesas o máquinas."),
            "pl": ("Siła", "Praca mięśni przeciw oporowi: ciężar własnego ciała, taśmy, ciężarki lub maszyny."),
            "sv": ("Styrka", "Musklerna arbetar mot ett motstånd: kroppsvikten, gummiband, vikter eller maskiner."),
        },
        "balance": {
            "de": ("Gleichgewicht", "Einen sicheren Stand üben, damit Sie seltener stürzen."),
            "nl": ("Evenwicht", "Oefenen om stevig te staan, zodat u minder snel valt."),
            "es": ("Equilibrio", "Practicar la estabilidad para reducir el riesgo de caídas."),
            "pl": ("Równowaga", "Ćwiczenie stabilności, aby zmniejszyć ryzyko upadku."),
            "sv": ("Balans", "Öva på att stå stadigt, för att minska risken att falla."),
        },
        "flexibility": {
            "de": ("Beweglichkeit", "Sanftes Dehnen und die Gelenke durch ihren ganzen Bewegungsbereich führen."),
            "nl": ("Lenigheid", "Rustig rekken en de gewrichten zo ver bewegen als ze kunnen."),
            "es": ("Flexibilidad", "Estiramientos suaves y mover las articulaciones en todo su recorrido."),
            "pl": ("Gibkość", "Łagodne rozciąganie i poruszanie stawami w pełnym zakresie ruchu."),
            "sv": ("Rörlighet", "Lugn stretching och att röra lederna så långt de kan."),
        },
        "breathing": {
            "de": ("Atmung und Entspannung", "Ruhige Atem- und Entspannungsübungen."),
            "nl": ("Ademhaling en ontspanning", "Rustige ademhalings- en ontspanningsoefeningen."),
            "es": ("Respiración y relajación", "Ejercicios de respiración tranquila y de relajación."),
            "pl": ("Oddech i relaksacja", "Spokojne ćwiczenia oddechowe i relaksacyjne."),
            "sv": ("Andning och avslappning", "Lugna andnings- och avslappningsövningar."),
        },
    },
}


def _empty(column):
    return Q(**{f"{column}__isnull": True}) | Q(**{column: ""})


def translate(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    tags = models.QuerySet(Tag)
    for field in ("name", "description"):
        tags.filter(_empty(f"{field}_en")).update(**{f"{field}_en": F(field)})
    for vocabulary, terms in TRANSLATIONS.items():
        for slug, languages in terms.items():
            term = tags.filter(vocabulary=vocabulary, slug=slug)  # may have been deleted
            for language, (name, description) in languages.items():
                for field, text in (("name", name), ("description", description)):
                    if text:
                        column = f"{field}_{language}"
                        term.filter(_empty(column)).update(**{column: text})


def untranslate(apps, schema_editor):
    Tag = apps.get_model("resources", "Tag")
    tags = models.QuerySet(Tag)
    for field in ("name", "description"):
        tags.exclude(_empty(f"{field}_en")).update(**{field: F(f"{field}_en")})
    tags.update(
        **{f"{field}_{language}": None for field in ("name", "description") for language in LANGUAGES}
    )


class Migration(migrations.Migration):
    dependencies = [("resources", "0005_tag_translations")]
    operations = [migrations.RunPython(translate, untranslate)]
