#!/usr/bin/env bash
# Type-check the package as it is installed: scaleboard with scaleboard.runner and
# scaleboard.generator inside it (in the repository they are top-level folders that setuptools
# maps into the package, a mapping mypy cannot follow). A temporary tree of links gives mypy
# the installed layout; the errors name the repository's files.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/scaleboard"
for entry in scaleboard/*; do ln -s "$repo/$entry" "$tree/scaleboard/"; done
ln -s "$repo/runner" "$tree/scaleboard/runner"
ln -s "$repo/generator" "$tree/scaleboard/generator"
cd "$tree"
status=0
"$repo/.venv/bin/mypy" --config-file "$repo/pyproject.toml" --cache-dir "$repo/.mypy_cache" -p scaleboard "$@" \
    | sed -e 's#^scaleboard/runner/#runner/#' -e 's#^scaleboard/generator/#generator/#' || status=$?
exit $status
