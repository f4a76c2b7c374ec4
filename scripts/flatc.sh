#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates the committed FlatBuffers Java code from spoke-vertx-core/src/main/fbs.
#   scripts/flatc.sh           regenerate in place
#   scripts/flatc.sh --check   regenerate into a temporary folder and fail if the committed code differs
# Needs flatc 2.0.8 (Debian: apt-get install flatbuffers-compiler), the version flatbuffers-java is pinned to.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
schema_dir=$root/spoke-vertx-core/src/main/fbs
java_dir=$root/spoke-vertx-core/src/main/java
package_dir=io/spoke/vertx/protocol/fb
want=2.0.8

command -v flatc >/dev/null || { echo "flatc not found: apt-get install flatbuffers-compiler" >&2; exit 1; }
have=$(flatc --version | awk '{print $3}')
[ "$have" = "$want" ] || { echo "flatc $have found, $want needed (it must match flatbuffers-java)" >&2; exit 1; }

generate() { flatc --java -o "$1" "$schema_dir"/*.fbs; }

if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -r "$tmp/$package_dir" "$java_dir/$package_dir" >"$tmp/diff.txt"; then
    cat "$tmp/diff.txt" >&2
    echo "The committed FlatBuffers code differs from what flatc generates: run scripts/flatc.sh and commit." >&2
    exit 1
  fi
  echo "FlatBuffers code is up to date."
else
  rm -rf "${java_dir:?}/$package_dir"
  generate "$java_dir"
  echo "Generated $(ls "$java_dir/$package_dir" | wc -l) classes in $java_dir/$package_dir"
fi
