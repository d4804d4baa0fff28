#!/usr/bin/env bash
# Tests the device distribution on a machine with no JDK: unpacks the tarball, hides every installed
# JDK (/usr/lib/jvm under an empty bind mount, in a private mount namespace), unsets JAVA_HOME, keeps
# no java on PATH, then starts the agent from the tarball, ingests an event, reads it back and stops it.
# usage: native/dist/test.sh [TARBALL]     (default: the one native/dist/build.sh wrote; needs root for unshare)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { printf '[dist-test] FAIL: %s\n' "$*" >&2; exit 1; }
TARBALL=${1:-$(ls -t "$ROOT"/native/target/outpost-*-linux-*.tar.gz 2>/dev/null | head -n1)}
[[ -f $TARBALL ]] || die "no tarball (run native/dist/build.sh first)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/outpost-dist-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
tar -C "$WORK" -xzf "$TARBALL"
HOME_DIR=$(echo "$WORK"/outpost-*)
[[ -x $HOME_DIR/bin/outpost ]] || die "no bin/outpost in the tarball"
for f in runtime/bin/java app/outpost.jar app/outpost.aot app/service.index conf/outpost.yaml licenses/THIRD-PARTY.txt; do
  [[ -e $HOME_DIR/$f ]] || die "the tarball lacks $f"
done
# shellcheck source=lib.sh
source "$ROOT/native/dist/lib.sh"
PORT=$(free_port)
cat > "$WORK/outpost.yaml" <<YAML
data:
  dir: $WORK/data
http:
  host: 127.0.0.1
  port: $PORT
YAML
mkdir -p "$WORK/empty"
# Root may make a private mount namespace; anyone else asks for a user namespace that maps them to root.
UNSHARE=(unshare --mount)
[[ $(id -u) -eq 0 ]] || UNSHARE=(unshare --user --map-root-user --mount)
# Inside: no JDK anywhere the launcher or a careless script could look.
"${UNSHARE[@]}" env -u JAVA_HOME PATH=/usr/bin:/bin HOME_DIR="$HOME_DIR" WORK="$WORK" PORT="$PORT" \
  SMOKE="$ROOT/native/dist/smoke.sh" LIB="$ROOT/native/dist/lib.sh" bash -euo pipefail -c '
  mount --bind "$WORK/empty" /usr/lib/jvm
  die() { printf "[dist-test] FAIL: %s\n" "$*" >&2; exit 1; }
  if command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; then die "a java is still reachable on PATH"; fi
  [ -z "$(ls -A /usr/lib/jvm)" ] || die "/usr/lib/jvm is not hidden"
  [ -z "${JAVA_HOME:-}" ] || die "JAVA_HOME is set"
  # AOTMode=on: the JVM refuses to start unless the build'"'"'s AOT cache applies here (another path, no JDK).
  OUTPOST_JAVA_OPTS=-XX:AOTMode=on "$HOME_DIR/bin/outpost" run --config "$WORK/outpost.yaml" > "$WORK/agent.log" 2>&1 &
  agent=$!
  trap "kill -TERM $agent 2>/dev/null || true; wait $agent 2>/dev/null || true" EXIT
  source "$LIB"
  wait_health "$PORT" "$agent" || { tail -n 30 "$WORK/agent.log" >&2; die "no /health (or the agent exited)"; }
  code=$(curl -sS -o "$WORK/post.json" -w "%{http_code}" -XPOST "http://127.0.0.1:$PORT/v1/events" \
    -H "Content-Type: application/json" -d "{\"stream\":\"dist\",\"key\":\"k1\",\"data\":{\"from\":\"tarball\"}}")
  [ "$code" = 200 ] || [ "$code" = 201 ] || [ "$code" = 202 ] || die "POST answered $code: $(cat "$WORK/post.json")"
  curl -fsS "http://127.0.0.1:$PORT/v1/events?stream=dist" > "$WORK/get.json" || die "GET failed"
  grep -q "\"tarball\"" "$WORK/get.json" || die "the event did not come back: $(cat "$WORK/get.json")"
  ! grep -q "service index" "$WORK/agent.log" || die "the service index was not used: $(grep "service index" "$WORK/agent.log")"
  kill -TERM $agent; wait $agent 2>/dev/null || true; trap - EXIT
  "$SMOKE" "$HOME_DIR" "$WORK"
  echo "[dist-test] ok: started from the tarball with no JDK on the machine, ingested and read back"
'
