#!/usr/bin/env bash
# Back up everything the hub holds: the PostgreSQL database, the uploaded media, and a
# portable export of the content.
#
# Usage: scripts/backup.sh DESTINATION_DIR
#
# Creates DESTINATION_DIR/hub-backup-YYYYMMDDTHHMMSSZ/ containing
#   database.dump   pg_dump --format=custom of $DATABASE_URL: the whole database (content,
#                   editor accounts, admin history). Restore it with scripts/restore.sh.
#   media.tar.gz    the uploaded files in MEDIA_ROOT ($DJANGO_MEDIA_ROOT, default ./media).
#   content.json    `manage.py export_content`: the content alone, keyed by slugs, readable,
#                   loadable into another server with `manage.py import_content`.
#   SHA256SUMS      checksums of the three, checked by scripts/restore.sh.
# The folder gets its final name only once all of it is written: a backup that failed half
# way stays behind as hub-backup-….partial and is never mistaken for a good one.
#
# Environment: DATABASE_URL (postgres://… or postgresql://…, required), DJANGO_MEDIA_ROOT,
# PYTHON (default .venv/bin/python, else python3), and the settings manage.py needs in
# production (DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, …). pg_dump must be at least as new
# as the server. Keep the database password in ~/.pgpass or PGPASSWORD rather than in the URL:
# command lines are visible to other users of the machine.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

if [ "$#" -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    usage
    exit 2
fi

project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destination="$1"
database_url="${DATABASE_URL:-}"
case "$database_url" in
    postgres://* | postgresql://*) ;;
    *)
        echo "backup.sh: DATABASE_URL must be a postgres:// URL (got '${database_url:-nothing}')." >&2
        exit 2
        ;;
esac
media_root="${DJANGO_MEDIA_ROOT:-$project/media}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$project/.venv/bin/python" ]; then PYTHON="$project/.venv/bin/python"; else PYTHON=python3; fi
fi

# The dump holds password hashes and reviewers' notes: readable by this user only.
umask 077
mkdir -p "$destination"
name="hub-backup-$(date -u +%Y%m%dT%H%M%SZ)"
work="$destination/$name.partial"
if [ -e "$destination/$name" ] || [ -e "$work" ]; then
    echo "backup.sh: $destination/$name already exists; wait a second and try again." >&2
    exit 1
fi
mkdir "$work"

echo "Dumping the database…"
pg_dump --format=custom --file="$work/database.dump" --dbname="$database_url"

# After the dump, so that every file the dump refers to is in the archive.
echo "Archiving media from $media_root…"
if [ -d "$media_root" ]; then
    tar -czf "$work/media.tar.gz" -C "$media_root" .
else
    echo "  ($media_root does not exist: no uploads yet, the archive is empty)"
    tar -czf "$work/media.tar.gz" -T /dev/null
fi

echo "Exporting the content…"
(cd "$project" && "$PYTHON" manage.py export_content --output "$work/content.json")

(cd "$work" && sha256sum database.dump media.tar.gz content.json >SHA256SUMS)
mv "$work" "$destination/$name"
echo "Backup complete: $destination/$name"
