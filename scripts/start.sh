#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the service with sample data on
# http://127.0.0.1:8000 (README.md, "Start").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
install_all
export WEBMAP_DATABASE_URL="${WEBMAP_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/webmap}"
# Published rasters stay in the checkout (the installed default is ~/.local/share/webmap/rasters).
export WEBMAP_RASTER_DIR="${WEBMAP_RASTER_DIR:-$ROOT/var/rasters}"
say "Creating the database schema"
"$VENV/bin/webmap" db init
say "Loading the sample data"
"$VENV/bin/webmap" data load-sample
say "Serving on http://${WEBMAP_HOST:-127.0.0.1}:${WEBMAP_PORT:-8000} (nginx in front of granian)"
# nginx listens there and the app server (granian) on a unix socket in var/run/ (docs/deploy.md); Ctrl-C or
# SIGTERM stops both.
exec "$VENV/bin/webmap" serve --proxy --host "${WEBMAP_HOST:-127.0.0.1}" --port "${WEBMAP_PORT:-8000}"
