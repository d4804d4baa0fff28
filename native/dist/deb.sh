#!/usr/bin/env bash
# Builds the Debian package from the distribution tarball: native/target/outpost_<version>_<arch>.deb.
#   /opt/outpost              the unpacked distribution (bin/outpost, its runtime, the app, licences)
#   /etc/outpost/outpost.yaml the configuration (a conffile: an edited one survives upgrades)
#   /var/lib/outpost          the data, owned by the system user outpost (made by postinst)
#   /lib/systemd/system/outpost.service   the hardened unit
# usage: native/dist/deb.sh [TARBALL]    (default: the newest native/target/outpost-*.tar.gz)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
die() { printf '[deb] ERROR: %s\n' "$*" >&2; exit 1; }
TARBALL=${1:-$(ls -t "$ROOT"/native/target/outpost-*-linux-*.tar.gz 2>/dev/null | head -n1)}
[[ -f $TARBALL ]] || die "no tarball (run native/dist/build.sh first)"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed (apt-get install dpkg)"
base=$(basename "$TARBALL" .tar.gz)             # outpost-<version>-linux-<arch>
arch=${base##*-linux-}
version=${base#outpost-}
version=${version%-linux-*}
debversion="${version//-SNAPSHOT/~snapshot}-1"   # ~ sorts before the release it precedes
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/outpost-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/pkg"
mkdir -p "$PKG/opt" "$PKG/etc/outpost" "$PKG/lib/systemd/system" "$PKG/DEBIAN"
tar -C "$PKG/opt" -xzf "$TARBALL"
mv "$PKG/opt/$base" "$PKG/opt/outpost"
mv "$PKG/opt/outpost/conf/outpost.yaml" "$PKG/opt/outpost/conf/outpost.example.yaml"
cp "$ROOT/README.md" "$PKG/opt/outpost/README.md"
install -m 0644 "$ROOT/native/dist/deb/outpost.yaml" "$PKG/etc/outpost/outpost.yaml"
install -m 0644 "$ROOT/native/dist/deb/outpost.service" "$PKG/lib/systemd/system/outpost.service"
for s in postinst prerm postrm; do install -m 0755 "$ROOT/native/dist/deb/$s" "$PKG/DEBIAN/$s"; done
echo /etc/outpost/outpost.yaml > "$PKG/DEBIAN/conffiles"
cat > "$PKG/DEBIAN/control" <<CONTROL
Package: outpost
Version: $debversion
Architecture: $arch
Maintainer: Outpost developers <outpost@localhost>
Section: net
Priority: optional
Installed-Size: $(du -sk "$PKG" | cut -f1)
Depends: passwd
Description: Outpost edge agent
 Ingests events and agent state over local HTTP, keeps them durably, runs rules and rollups,
 answers local queries and live tails, and syncs store-and-forward with upstream hubs.
 Self-contained: carries its own Java runtime.
CONTROL
OUT="$ROOT/native/target/outpost_${debversion}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$PKG" "$OUT" >/dev/null
printf '[deb] wrote %s (%s)\n' "$OUT" "$(du -h "$OUT" | cut -f1)" >&2
echo "$OUT"
