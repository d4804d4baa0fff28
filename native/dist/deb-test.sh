#!/usr/bin/env bash
# Tests the Debian package on this machine (root; no systemd here): installs it with dpkg -i, checks
# the layout, the system user, the conffile and the unit's hardening, runs the unit's ExecStart as the
# service user (as systemd would), ingests and reads back, stops it, then dpkg -r must keep the data;
# dpkg -P cleans up (the data is kept even then, by design). Leaves the machine as it found it.
# usage: native/dist/deb-test.sh [DEB]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { printf '[deb-test] FAIL: %s\n' "$*" >&2; exit 1; }
DEB=${1:-$(ls -t "$ROOT"/native/target/outpost_*.deb 2>/dev/null | head -n1)}
[[ -f $DEB ]] || die "no .deb (run native/dist/deb.sh first)"
[[ $(id -u) -eq 0 ]] || die "needs root (dpkg -i)"
if dpkg-query -W -f='${Status}' outpost 2>/dev/null | grep -q installed; then
  die "an outpost package is already installed here; this test installs and removes its own"
fi
[[ ! -e /var/lib/outpost ]] || die "/var/lib/outpost exists already: not this test's to touch"
agent=""
cleanup() {
  [[ -n $agent ]] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  dpkg -P outpost >/dev/null 2>&1 || true
  rm -rf /var/lib/outpost
}
trap cleanup EXIT

dpkg -i "$DEB" >/dev/null || die "dpkg -i failed"
for f in /opt/outpost/bin/outpost /opt/outpost/runtime/bin/java /opt/outpost/app/outpost.aot \
    /opt/outpost/conf/outpost.example.yaml /opt/outpost/licenses/THIRD-PARTY.txt \
    /etc/outpost/outpost.yaml /lib/systemd/system/outpost.service; do
  [[ -e $f ]] || die "$f not installed"
done
getent passwd outpost >/dev/null || die "no system user outpost"
[[ $(stat -c %U /var/lib/outpost) == outpost ]] || die "/var/lib/outpost is not the service user's"
dpkg-query -W -f='${Conffiles}' outpost | grep -q /etc/outpost/outpost.yaml || die "the config is not a conffile"
unit=/lib/systemd/system/outpost.service
for want in NoNewPrivileges=true ProtectSystem=strict ReadWritePaths=/var/lib/outpost Restart=on-failure \
    User=outpost MemoryMax=; do
  grep -q "^$want" "$unit" || die "the unit lacks $want"
done
# MemoryMax must hold budget.memory (the agent stays inside it; the cgroup limit is the backstop).
max_mib=$(sed -n 's/^MemoryMax=\([0-9]*\)M$/\1/p' "$unit")
budget_mib=$(sed -n 's/^ *memory: \([0-9]*\)MiB$/\1/p' /etc/outpost/outpost.yaml)
[[ -n $max_mib && -n $budget_mib && $max_mib -ge $budget_mib && $max_mib -le $((budget_mib * 3 / 2)) ]] \
  || die "MemoryMax ${max_mib}M is not between budget.memory ${budget_mib}MiB and 1.5x it"
/opt/outpost/bin/outpost check-config /etc/outpost/outpost.yaml >/dev/null || die "the installed config does not check"

# Run as systemd would: the unit's ExecStart, as its user, in its working directory; on a free port.
# shellcheck source=lib.sh
source "$ROOT/native/dist/lib.sh"
PORT=$(free_port)
sed -i "s/^  port: 7070$/  port: $PORT/" /etc/outpost/outpost.yaml
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
runuser -u outpost -- bash -c "cd /var/lib/outpost && exec $exec_start" > /tmp/outpost-deb-test.log 2>&1 &
agent=$!
wait_health "$PORT" "$agent" || { tail -n 30 /tmp/outpost-deb-test.log >&2; die "the service does not answer /health"; }
curl -fsS -XPOST "http://127.0.0.1:$PORT/v1/events" -H 'Content-Type: application/json' \
  -d '{"stream":"deb","key":"k","data":{"from":"package"}}' >/dev/null || die "POST failed"
curl -fsS "http://127.0.0.1:$PORT/v1/events?stream=deb" | grep '"package"' >/dev/null || die "the event did not come back"
kill -TERM "$agent"; wait "$agent" 2>/dev/null || true; agent=""
[[ $(stat -c %U /var/lib/outpost/data) == outpost ]] || die "the data was not written by the service user"

dpkg -r outpost >/dev/null || die "dpkg -r failed"
[[ ! -e /opt/outpost/bin/outpost ]] || die "dpkg -r left the program"
[[ -d /var/lib/outpost/data/log ]] || die "dpkg -r removed the data"
[[ -f /etc/outpost/outpost.yaml ]] || die "dpkg -r removed the (conf)file"
dpkg -P outpost >/dev/null || die "dpkg -P failed"
[[ -d /var/lib/outpost/data/log ]] || die "dpkg -P removed the data"
! getent passwd outpost >/dev/null || die "dpkg -P left the system user"
echo "[deb-test] ok: installed, served as the service user, dpkg -r and -P kept the data"
