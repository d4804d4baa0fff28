#!/usr/bin/env bash
# Collects the licences of the bundled third-party jars: each jar's own LICENSE/NOTICE files under
# licenses/<jar>/, and THIRD-PARTY.txt naming every jar with the licence its Maven POM declares.
# usage: native/dist/licenses.sh LIB_DIR OUT_DIR
set -euo pipefail
lib=$1 out=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
M2=${M2_REPO:-$HOME/.m2/repository}
mkdir -p "$out"
[ -f "$ROOT/LICENSE" ] && cp "$ROOT/LICENSE" "$out/OUTPOST-LICENSE"
{
  echo "Third-party software bundled in this distribution (jar: licence as declared in its POM)."
  echo "The Java runtime is Eclipse Temurin (GPLv2 with the Classpath Exception): runtime/legal/."
  echo
} > "$out/THIRD-PARTY.txt"
pom_licenses() { # the <licenses> names of a POM, following <parent> up to three levels
  local pom=$1 depth=0 names
  while [ -f "$pom" ] && [ $depth -lt 4 ]; do
    names=$(sed -n '/<licenses>/,/<\/licenses>/s:.*<name>\(.*\)</name>.*:\1:p' "$pom" | paste -sd ';' -)
    [ -n "$names" ] && { echo "$names"; return; }
    local g a v
    g=$(sed -n '/<parent>/,/<\/parent>/s:.*<groupId>\(.*\)</groupId>.*:\1:p' "$pom" | head -n1)
    a=$(sed -n '/<parent>/,/<\/parent>/s:.*<artifactId>\(.*\)</artifactId>.*:\1:p' "$pom" | head -n1)
    v=$(sed -n '/<parent>/,/<\/parent>/s:.*<version>\(.*\)</version>.*:\1:p' "$pom" | head -n1)
    [ -n "$a" ] || break
    pom="$M2/${g//.//}/$a/$v/$a-$v.pom"
    depth=$((depth + 1))
  done
  echo "see the jar's own licence files"
}
poms=$(mktemp)
trap 'rm -f "$poms"' EXIT
find "$M2" -name '*.pom' > "$poms" 2>/dev/null || true
for jar in "$lib"/*.jar; do
  base=$(basename "$jar" .jar)
  dir="$out/$base"
  mkdir -p "$dir"
  (cd "$dir" && unzip -qq -o -j "$jar" 'META-INF/LICENSE*' 'META-INF/NOTICE*' 'META-INF/*/LICENSE*' 'LICENSE*' 'NOTICE*' 2>/dev/null) || true
  rmdir "$dir" 2>/dev/null || true
  pom=$(grep -m1 "/$base.pom\$" "$poms" || true)
  echo "$base.jar: $( [ -n "$pom" ] && pom_licenses "$pom" || echo "see the jar's own licence files")" >> "$out/THIRD-PARTY.txt"
done
