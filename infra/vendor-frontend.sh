#!/usr/bin/env bash
# Vendors the front-end packages from npm into src/ProDesk.Web/wwwroot/lib, so that pages never load
# anything from a CDN. Run it to upgrade; commit what it writes. Versions are pinned here.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=src/ProDesk.Web/wwwroot/lib
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
  @microsoft/signalr@10.0.11 htmx.org@2.0.11 uplot@1.6.32 >/dev/null)
mkdir -p "$lib/signalr" "$lib/htmx" "$lib/uplot"
cp "$work/node_modules/@microsoft/signalr/dist/browser/signalr.min.js" "$lib/signalr/"
cp "$work/node_modules/@microsoft/signalr/LICENSE.txt" "$lib/signalr/" 2>/dev/null || true
cp "$work/node_modules/htmx.org/dist/htmx.min.js" "$lib/htmx/"
cp "$work/node_modules/htmx.org/LICENSE" "$lib/htmx/" 2>/dev/null || true
cp "$work/node_modules/uplot/dist/uPlot.iife.min.js" "$work/node_modules/uplot/dist/uPlot.min.css" "$lib/uplot/"
cp "$work/node_modules/uplot/LICENSE" "$lib/uplot/" 2>/dev/null || true
echo "vendored into $lib:"; find "$lib" -type f | sort
