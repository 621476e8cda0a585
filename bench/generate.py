"""Fill a benchmark database with realistic synthetic resources.

    .venv/bin/python bench/generate.py --size 10000
    .venv/bin/python bench/generate.py --size 100000 \
        --database-url postgres://root@127.0.0.1:5432/hub_bench_100000

The database (default `hub_bench_<size>`) is created when missing and migrated; its resources,
organisations and tag links are then replaced. The name must start with `hub_bench` so that
this script can never empty a real database.

Why synthetic but realistic: the planner picks indexes from statistics, so the data must have
the skew of a real catalogue. Languages are skewed (half English), most resources are for
metastatic disease, "gentle" is the most common level, about 85 % are visible, some are not
reviewed, a few are scheduled for the future, and texts use real words in each language so
full-text search selects and ranks as it would in production. Seeded, so every run builds the
same rows. Rows go in with COPY into tables without their secondary indexes, which are then
built once (much faster than growing GIN indexes row by row), most of the remaining time is
PostgreSQL computing the generated `search_vector`; no simple-history rows, which the public
pages never read. Timings are in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LANGUAGE_WEIGHTS = {"en": 50, "de": 15, "nl": 10, "es": 12, "pl": 6, "sv": 7}
KIND_WEIGHTS = {"video": 40, "guide": 30, "link": 20, "programme": 10}
# Published resources only ever carry a real rating.
RATING_WEIGHTS = {
    "suitable": 45,
    "with-modifications": 30,
    "clearance-needed": 15,
    "not-recommended": 10,
}
STATUS_WEIGHTS = {"published": 85, "draft": 8, "in-review": 5, "archived": 2}
LEVEL_WEIGHTS = {"bed-or-chair": 15, "gentle": 45, "moderate": 30, "structured": 10}
TYPE_WEIGHTS = {"aerobic": 30, "strength": 25, "balance": 15, "flexibility": 15, "breathing": 15}
FLAG_WEIGHTS = {
    "loaded-spine": 20,
    "loaded-hip": 15,
    "loaded-shoulder": 15,
    "impact": 20,
    "heavy-load": 10,
    "fall-risk": 15,
    "end-range-stretch": 5,
}
COUNTRIES = ["GB", "DE", "NL", "ES", "PL", "SE", "US", "IE", "AT", "BE"]

# Real words per language: (adjectives, activities, audiences, filler sentences).
WORDS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "en": (
        ["Gentle", "Seated", "Easy", "Daily", "Short", "Calm", "Steady", "Guided", "Simple"],
        [
            "walking",
            "stretching",
            "balance exercises",
            "strength training",
            "breathing",
            "yoga",
            "chair exercises",
            "cycling",
            "resistance bands",
            "swimming",
            "tai chi",
            "relaxation",
            "mobility routine",
            "pilates",
        ],
        [
            "after chemotherapy",
            "with bone metastases",
            "for fatigue",
            "at home",
            "for beginners",
            "with a carer",
            "in hospital",
            "for tired days",
        ],
        [
            "Move slowly and stop if you feel pain.",
            "Breathe out as you lift your arms.",
            "Keep a chair nearby for support.",
            "Rest between each set of movements.",
            "This session improves energy and mood.",
            "Ask your physiotherapist before starting.",
            "Walking helps with fatigue during treatment.",
            "Hold each stretch for ten seconds.",
            "Strength work protects muscles and bones.",
            "Balance practice lowers the risk of falls.",
        ],
    ),
    "de": (
        ["Sanfte", "Sitzende", "Leichte", "Tägliche", "Kurze", "Ruhige", "Geführte"],
        [
            "Übungen",
            "Dehnübungen",
            "Gleichgewichtsübungen",
            "Krafttraining",
            "Atemübungen",
            "Spaziergänge",
            "Gymnastik",
            "Radfahren",
            "Entspannung",
            "Bewegung im Sitzen",
        ],
        [
            "nach der Chemotherapie",
            "bei Knochenmetastasen",
            "gegen Erschöpfung",
            "zu Hause",
            "für Anfängerinnen",
            "im Krankenhaus",
        ],
        [
            "Bewegen Sie sich langsam und hören Sie bei Schmerzen auf.",
            "Atmen Sie aus, wenn Sie die Arme heben.",
            "Halten Sie einen Stuhl in der Nähe.",
            "Ruhen Sie sich zwischen den Übungen aus.",
            "Bewegung hilft gegen Müdigkeit.",
            "Fragen Sie vorher Ihre Physiotherapeutin.",
            "Krafttraining schützt Muskeln und Knochen.",
        ],
    ),
    "nl": (
        ["Rustige", "Zittende", "Lichte", "Dagelijkse", "Korte", "Eenvoudige", "Begeleide"],
        [
            "oefeningen",
            "rekoefeningen",
            "evenwichtsoefeningen",
            "krachttraining",
            "ademhalingsoefeningen",
            "wandelen",
            "fietsen",
            "ontspanning",
            "stoelgymnastiek",
        ],
        [
            "na chemotherapie",
            "bij botmetastasen",
            "tegen vermoeidheid",
            "thuis",
            "voor beginners",
            "in het ziekenhuis",
        ],
        [
            "Beweeg langzaam en stop als u pijn voelt.",
            "Adem uit terwijl u de armen optilt.",
            "Houd een stoel in de buurt als steun.",
            "Rust tussen de oefeningen.",
            "Wandelen helpt tegen vermoeidheid.",
            "Vraag eerst uw fysiotherapeut om advies.",
            "Krachttraining beschermt spieren en botten.",
        ],
    ),
    "es": (
        ["Suaves", "Sentados", "Fáciles", "Diarios", "Cortos", "Tranquilos", "Guiados"],
        [
            "ejercicios",
            "estiramientos",
            "ejercicios de equilibrio",
            "entrenamiento de fuerza",
            "respiración",
            "caminar",
            "yoga",
            "bicicleta",
            "relajación",
            "ejercicios en silla",
        ],
        [
            "después de la quimioterapia",
            "con metástasis óseas",
            "contra la fatiga",
            "en casa",
            "para principiantes",
            "en el hospital",
        ],
        [
            "Muévase despacio y pare si siente dolor.",
            "Espire al levantar los brazos.",
            "Tenga una silla cerca como apoyo.",
            "Descanse entre los ejercicios.",
            "Caminar ayuda contra el cansancio.",
            "Consulte antes a su fisioterapeuta.",
            "La fuerza protege los músculos y los huesos.",
        ],
    ),
    "pl": (
        ["Łagodne", "Siedzące", "Łatwe", "Codzienne", "Krótkie", "Spokojne", "Prowadzone"],
        [
            "ćwiczenia",
            "rozciąganie",
            "ćwiczenia równowagi",
            "trening siłowy",
            "ćwiczenia oddechowe",
            "spacery",
            "joga",
            "jazda na rowerze",
            "relaksacja",
        ],
        [
            "po chemioterapii",
            "przy przerzutach do kości",
            "na zmęczenie",
            "w domu",
            "dla początkujących",
            "w szpitalu",
        ],
        [
            "Poruszaj się powoli i przerwij, jeśli czujesz ból.",
            "Zrób wydech, unosząc ręce.",
            "Trzymaj krzesło w pobliżu.",
            "Odpoczywaj między ćwiczeniami.",
            "Spacer pomaga na zmęczenie.",
            "Zapytaj najpierw fizjoterapeutę.",
            "Trening siłowy chroni mięśnie i kości.",
        ],
    ),
    "sv": (
        ["Lugna", "Sittande", "Enkla", "Dagliga", "Korta", "Mjuka", "Guidade"],
        [
            "övningar",
            "stretching",
            "balansövningar",
            "styrketräning",
            "andningsövningar",
            "promenader",
            "yoga",
            "cykling",
            "avslappning",
            "stolgymnastik",
        ],
        [
            "efter cytostatika",
            "vid skelettmetastaser",
            "mot trötthet",
            "hemma",
            "för nybörjare",
            "på sjukhuset",
        ],
        [
            "Rör dig långsamt och sluta om det gör ont.",
            "Andas ut när du lyfter armarna.",
            "Ha en stol nära som stöd.",
            "Vila mellan övningarna.",
            "Promenader hjälper mot trötthet.",
            "Fråga din fysioterapeut först.",
            "Styrketräning skyddar muskler och skelett.",
        ],
    ),
}

RESOURCE_COLUMNS = (
    "id", "kind", "title", "slug", "summary", "body", "url", "video_provider", "video_id",
    "duration_minutes", "language", "image", "image_alt", "image_card", "image_detail",
    "bone_metastasis_safety", "rating_is_provisional", "review_notes", "status",
    "published_at", "reviewed_by", "reviewed_on", "next_review_due", "created_at",
    "updated_at", "organisation_id", "has_captions", "transcript", "transcript_url",
    "tag_ids",
)  # fmt: skip


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def pick_some(rng: random.Random, weights: dict[str, int], low: int, high: int) -> set[str]:
    """Between low and high distinct values, each drawn by weight (the skew of real tagging)."""
    wanted = rng.randint(low, high)
    chosen: set[str] = set()
    while len(chosen) < wanted:
        chosen.add(pick(rng, weights))
    return chosen


def slugify_ascii(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text)[:60].strip("-")


def resource_rows(
    size: int, seed: int, organisation_ids: Sequence[int], tag_ids: dict[tuple[str, str], int]
) -> Iterator[tuple[tuple, list[int]]]:
    """(resource row, tag ids) for each synthetic resource, deterministic for a seed."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    for pk in range(1, size + 1):
        language = pick(rng, LANGUAGE_WEIGHTS)
        adjectives, activities, audiences, sentences = WORDS[language]
        kind = pick(rng, KIND_WEIGHTS)
        title = f"{rng.choice(adjectives)} {rng.choice(activities)} {rng.choice(audiences)}"
        slug = f"{slugify_ascii(title)}-{pk}"
        summary = " ".join(rng.sample(sentences, 2))
        body = (
            "\n\n".join(" ".join(rng.choices(sentences, k=5)) for _ in range(rng.randint(2, 5)))
            if kind == "guide" or rng.random() < 0.3
            else ""
        )
        url, provider, video_id = "", "", ""
        if kind == "video":
            video_id = "".join(rng.choices("abcdefghijkABCDEFGHIJK0123456789_-", k=11))
            url, provider = f"https://www.youtube.com/watch?v={video_id}", "youtube"
        elif kind in {"link", "programme"} or rng.random() < 0.2:
            url = f"https://example-{rng.randint(1, 400)}.org/{slug}"
        status = pick(rng, STATUS_WEIGHTS)
        if status == "published":
            rating = pick(rng, RATING_WEIGHTS)
        else:
            rating = "not-reviewed" if rng.random() < 0.5 else pick(rng, RATING_WEIGHTS)
        reviewed = rating != "not-reviewed"
        created = now - timedelta(days=rng.randint(1, 1100), minutes=rng.randint(0, 1440))
        published_at = None
        if status in {"published", "archived"}:
            # One in a hundred is scheduled for the coming month: not visible yet.
            ahead = rng.random() < 0.01
            published_at = now + timedelta(days=rng.randint(1, 30)) if ahead else created
        reviewed_on = (created + timedelta(days=rng.randint(0, 20))).date() if reviewed else None
        reviewed_on = min(reviewed_on, date.today()) if reviewed_on else None
        if status == "published" and reviewed_on is None:
            reviewed_on = created.date()
        next_due = reviewed_on + timedelta(days=365) if reviewed_on else None
        captions = kind == "video" and rng.random() < 0.6
        transcript = (
            " ".join(rng.choices(sentences, k=8)) if captions and rng.random() < 0.3 else ""
        )
        row = (
            pk, kind, title, slug, summary, body, url, provider, video_id,
            rng.choice([5, 10, 15, 20, 30, 45, 60]), language, "", "", "", "",
            rating, False, "", status, published_at,
            "A. Jansen, physiotherapist" if reviewed else "", reviewed_on, next_due,
            created, created, rng.choice(organisation_ids), captions, transcript, "",
        )  # fmt: skip
        tags = [tag_ids["level", slug] for slug in pick_some(rng, LEVEL_WEIGHTS, 1, 2)]
        stages = {"metastatic"} if rng.random() < 0.7 else pick_some(
            rng, {"early": 40, "locally-advanced": 30, "metastatic": 30}, 1, 2
        )  # fmt: skip
        tags += [tag_ids["stage", slug] for slug in stages]
        tags += [tag_ids["type", slug] for slug in pick_some(rng, TYPE_WEIGHTS, 1, 3)]
        if rng.random() < 0.4:
            tags += [tag_ids["flag", slug] for slug in pick_some(rng, FLAG_WEIGHTS, 1, 2)]
        # The denormalised copy the triggers of migration 0013 would write (they are off
        # during the COPY of the links).
        yield (*row, sorted(tags)), tags


# Programme listings (#13): towns with coordinates, so the finder's distance sort has work to do.
TOWNS = [
    ("Utrecht", "NL", 52.09, 5.12), ("Amsterdam", "NL", 52.37, 4.90),
    ("Rotterdam", "NL", 51.92, 4.48), ("Berlin", "DE", 52.52, 13.40),
    ("Heidelberg", "DE", 49.40, 8.69), ("München", "DE", 48.14, 11.58),
    ("London", "GB", 51.51, -0.13), ("Leeds", "GB", 53.80, -1.55),
    ("Madrid", "ES", 40.42, -3.70), ("Kraków", "PL", 50.06, 19.94),
    ("Stockholm", "SE", 59.33, 18.07), ("Göteborg", "SE", 57.71, 11.97),
]  # fmt: skip
PROGRAMME_COLUMNS = (
    "id", "organisation_id", "name", "slug", "description", "url", "email", "phone", "referral",
    "application_process", "eligibility_description", "bone_metastases", "cost",
    "fees_description", "languages", "accessibility", "delivery", "service_area", "schedule",
    "assured_date", "assurer", "source_url", "is_demo", "review_notes", "status", "published_at",
    "created_at", "updated_at",
)  # fmt: skip


def programme_rows(count: int, seed: int) -> Iterator[tuple[tuple, list[tuple]]]:
    """(programme row, its location rows): a fifth online, 90 % published, skewed to NL/DE."""
    rng = random.Random(seed + 13)
    now = datetime.now(UTC)
    for pk in range(1, count + 1):
        delivery = pick(rng, {"in-person": 70, "online": 20, "hybrid": 10})
        status = pick(rng, {"published": 90, "in-review": 6, "draft": 4})
        checked = (now - timedelta(days=rng.randint(0, 500))).date()
        row = (
            pk, rng.randint(1, 200), f"Exercise group {pk}", f"exercise-group-{pk}",
            "Supervised exercise in small groups.", f"https://programme-{pk}.example.org/", "",
            "", pick(rng, {"self": 3, "referral": 2, "either": 5}), "", "",
            pick(rng, {"accepted": 4, "clearance": 3, "not-accepted": 1, "not-stated": 2}),
            pick(rng, {"free": 1, "paid": 1}), "",
            pick(rng, {"en": 3, "nl": 2, "de": 2, "nl,en": 1}),
            "", delivery, "", "", checked, "Bench", "", False, "", status,
            now - timedelta(days=1) if status == "published" else None, now, now,
        )  # fmt: skip
        locations = []
        if delivery != "online":
            for _ in range(rng.choice([1, 1, 1, 2])):
                city, country, lat, lon = rng.choice(TOWNS)
                locations.append(
                    (pk, "", "", city, "", country,
                     round(lat + rng.uniform(-0.2, 0.2), 5), round(lon + rng.uniform(-0.2, 0.2), 5))
                )  # fmt: skip
        yield row, locations


def ensure_database(url: str) -> None:
    """Create the benchmark database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def fill(size: int, seed: int, programmes: int = 10_000) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE resources_resource_tags, resources_resource_translations, "
            "resources_transition, resources_historicalresource_tags, "
            "resources_historicalresource, resources_resource, resources_organisation "
            "RESTART IDENTITY CASCADE"
        )
        # Building an index once over all rows is far faster than growing it row by row (the
        # GIN indexes above all): drop the plain indexes, COPY, then build them again. The
        # tag-link triggers are off too: tag_ids is written with each row.
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('resources_resource', 'resources_resource_tags') AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Deferred foreign-key checks queued so far must run before ALTER TABLE may.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE resources_resource_tags DISABLE TRIGGER USER")
        rng = random.Random(seed)
        with cursor.copy(
            "COPY resources_organisation (id, name, slug, website, country) FROM STDIN"
        ) as copy:
            for pk in range(1, 201):
                copy.write_row(
                    (pk, f"Organisation {pk}", f"organisation-{pk}",
                     f"https://org-{pk}.example.org", rng.choice(COUNTRIES))
                )  # fmt: skip
        cursor.execute("SELECT vocabulary, slug, id FROM resources_tag")
        tag_ids = {(vocabulary, slug): pk for vocabulary, slug, pk in cursor.fetchall()}
        links: list[tuple[int, int]] = []
        columns = ", ".join(RESOURCE_COLUMNS)
        with cursor.copy(f"COPY resources_resource ({columns}) FROM STDIN") as copy:
            for row, tags in resource_rows(size, seed, list(range(1, 201)), tag_ids):
                copy.write_row(row)
                links.extend((row[0], tag) for tag in tags)
        with cursor.copy("COPY resources_resource_tags (resource_id, tag_id) FROM STDIN") as copy:
            for link in links:
                copy.write_row(link)
        locations: list[tuple] = []
        columns = ", ".join(PROGRAMME_COLUMNS)
        with cursor.copy(f"COPY resources_programme ({columns}) FROM STDIN") as copy:
            for row, rows in programme_rows(programmes, seed):
                copy.write_row(row)
                locations.extend(rows)
        with cursor.copy(
            "COPY resources_programmelocation (programme_id, name, address, city, postal_code, "
            "country, latitude, longitude) FROM STDIN"
        ) as copy:
            for location in locations:
                copy.write_row(location)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE resources_resource_tags ENABLE TRIGGER USER")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table in (
            "resources_organisation",
            "resources_resource",
            "resources_resource_tags",
            "resources_programme",
            "resources_programmelocation",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _filled(size: int) -> bool:
    """Whether the database already holds this many resources, with the tag_ids column."""
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE tag_ids = '{}') FROM resources_resource"
            )
            count, untagged = cursor.fetchone()
    except DatabaseError:  # not migrated yet
        return False
    return count == size and untagged == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="number of resources")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--if-missing", action="store_true", help="do nothing when the database has the rows"
    )
    parser.add_argument(
        "--programmes", type=int, default=10_000, help="number of programme listings"
    )
    parser.add_argument(
        "--database-url", help="default: postgres://root@127.0.0.1:5432/hub_bench_<size>"
    )
    args = parser.parse_args()
    url = args.database_url or f"postgres://root@127.0.0.1:5432/hub_bench_{args.size}"
    if not urlsplit(url).path.lstrip("/").startswith("hub_bench"):
        parser.error("the database name must start with hub_bench: its resources are replaced")
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()
    if args.if_missing and _filled(args.size):
        print(f"{url} already holds {args.size} resources")
        return
    started = time.monotonic()
    fill(args.size, args.seed, args.programmes)
    print(
        f"{args.size} resources and {args.programmes} programme listings in {url} "
        f"({time.monotonic() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
