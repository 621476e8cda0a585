#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh: the database and the uploaded media.
#
# Usage: scripts/restore.sh [--yes] BACKUP_DIR TARGET_DATABASE_URL [MEDIA_DIR]
#
#   BACKUP_DIR            a hub-backup-… folder written by scripts/backup.sh
#   TARGET_DATABASE_URL   postgres://… of the database to restore into. It must exist
#                         (createdb); whatever of the hub's it holds is replaced
#                         (pg_restore --clean --if-exists, in one transaction).
#   MEDIA_DIR             where the media files go (default $DJANGO_MEDIA_ROOT, else ./media).
#                         Files are added or overwritten; others there are left alone.
#   --yes                 do not ask for confirmation (needed when not run from a terminal).
#
# Then the target's content is exported again and compared with the backup's content.json,
# so a restore that "worked" but lost something says so (exit status 1). That step runs
# manage.py with DATABASE_URL set to the target; PYTHON defaults to .venv/bin/python, else
# python3. Restore with the release that made the backup, then run `manage.py migrate`.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
}

assume_yes=""
if [ "${1:-}" = "--yes" ]; then
    assume_yes=1
    shift
fi
if [ "$#" -lt 2 ] || [ "$#" -gt 3 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    usage
    exit 2
fi

project="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backup="$1"
target="$2"
media_dir="${3:-${DJANGO_MEDIA_ROOT:-$project/media}}"
case "$target" in
    postgres://* | postgresql://*) ;;
    *)
        echo "restore.sh: TARGET_DATABASE_URL must be a postgres:// URL (got '$target')." >&2
        exit 2
        ;;
esac
for file in database.dump media.tar.gz; do
    if [ ! -f "$backup/$file" ]; then
        echo "restore.sh: $backup/$file is missing; is $backup a folder made by backup.sh?" >&2
        exit 2
    fi
done
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$project/.venv/bin/python" ]; then PYTHON="$project/.venv/bin/python"; else PYTHON=python3; fi
fi

if [ -f "$backup/SHA256SUMS" ]; then
    echo "Checking the backup's checksums…"
    (cd "$backup" && sha256sum --check --quiet SHA256SUMS)
fi

# The target without its password, for the messages.
shown="$(printf '%s' "$target" | sed -E 's#//([^:@/]+):[^@/]*@#//\1:***@#')"
if [ -z "$assume_yes" ]; then
    if [ ! -t 0 ]; then
        echo "restore.sh: this replaces the database $shown; add --yes to confirm." >&2
        exit 2
    fi
    read -r -p "Replace the database $shown and add media to $media_dir? Type yes: " answer
    if [ "$answer" != "yes" ]; then
        echo "Nothing was changed." >&2
        exit 1
    fi
fi

echo "Restoring the database into $shown…"
# --no-owner/--no-privileges: the target may belong to another role than the source did.
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction \
    --exit-on-error --dbname="$target" "$backup/database.dump"

echo "Restoring media into $media_dir…"
mkdir -p "$media_dir"
tar -xzf "$backup/media.tar.gz" -C "$media_dir" --no-same-owner

if [ -f "$backup/content.json" ]; then
    echo "Comparing the restored content with the backup's export…"
    restored="$(mktemp)"
    trap 'rm -f "$restored"' EXIT
    (cd "$project" && DATABASE_URL="$target" DJANGO_MEDIA_ROOT="$media_dir" \
        "$PYTHON" manage.py export_content --output "$restored")
    if ! "$PYTHON" - "$backup/content.json" "$restored" <<'PY'
import json
import sys

backup, restored = (json.load(open(path, encoding="utf-8")) for path in sys.argv[1:])
for document in (backup, restored):
    document.pop("exported_at", None)
sys.exit(0 if backup == restored else 1)
PY
    then
        echo "restore.sh: the restored content differs from the backup's content.json." >&2
        echo "(Expected only if this release is newer than the backup's: migrate, then compare.)" >&2
        exit 1
    fi
    echo "The restored content matches the backup's export."
fi
echo "Restore complete. Next: DATABASE_URL=… python manage.py migrate (if this release is newer)."
