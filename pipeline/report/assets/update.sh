#!/usr/bin/env bash
# Refreshes the browser assets that the HTML report embeds, from their npm
# packages: Apache ECharts (the chart library) and world-atlas (Natural Earth
# 1:110m country outlines as TopoJSON, for the fraud map). The files are
# committed so that `go build` needs nothing but Go; run this (needs npm) only
# to move to another version, then commit the result.
set -euo pipefail
cd "$(dirname "$0")"
ECHARTS=echarts@5.6.0
ATLAS=world-atlas@2.0.2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$ECHARTS" "$ATLAS" >/dev/null)
tar xzf "$tmp"/echarts-*.tgz -C "$tmp" package/dist/echarts.min.js package/LICENSE package/NOTICE
cp "$tmp/package/dist/echarts.min.js" echarts.min.js
cp "$tmp/package/LICENSE" LICENSE-echarts
cp "$tmp/package/NOTICE" NOTICE-echarts
rm -rf "$tmp/package"
tar xzf "$tmp"/world-atlas-*.tgz -C "$tmp" package/countries-110m.json package/LICENSE
cp "$tmp/package/countries-110m.json" countries-110m.json
cp "$tmp/package/LICENSE" LICENSE-world-atlas
{
  echo "# npm package, file, sha256"
  echo "$ECHARTS echarts.min.js $(sha256sum echarts.min.js | cut -d' ' -f1)"
  echo "$ATLAS countries-110m.json $(sha256sum countries-110m.json | cut -d' ' -f1)"
} > VERSIONS
