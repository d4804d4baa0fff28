#!/usr/bin/env bash
# Builds the device distribution: native/target/outpost-<version>-linux-<arch>.tar.gz, a self-contained
# JVM form of the agent that runs where no JDK is installed (issue #15 point 1; docs/DECISIONS.md
# "The device distribution").
#
# usage: native/dist/build.sh            (from anywhere; builds edge-runtime first unless SKIP_BUILD=1)
# env:   SKIP_BUILD=1 to use edge-runtime/target as it is, JAVA_HOME (a JDK 25; found like ./outpost does)
#
# The tarball holds:
#   bin/outpost          the launcher (no JDK needed: it runs runtime/bin/java)
#   runtime/             a jlink image with only the modules Outpost needs (no jdk.compiler: nothing
#                        is compiled at run time)
#   app/outpost.jar, app/lib/*.jar, app/jvm.args (the JVM flags of pom.xml outpost.jvm.opens)
#   app/no-javac.jar     the stand-in for javac that chronicle-values' static initialiser looks up
#   app/outpost.aot      a JDK AOT cache trained during this build on this exact runtime
#   app/service.index    the Micronaut services of the class path (a start reads them, not the jars)
#   app/native/          the native libraries of zstd-jni, sqlite-jdbc, JNA, lz4-java and Netty's epoll, unpacked
#   conf/outpost.yaml    the example configuration (docs/outpost.example.yaml)
#   licenses/            our licence, third-party licence and notice files, THIRD-PARTY.txt
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
log() { printf '[dist] %s\n' "$*" >&2; }
die() { printf '[dist] ERROR: %s\n' "$*" >&2; exit 1; }

JAVA_HOME=$("$ROOT/outpost" java-home) || die "a JDK 25 is needed to build the distribution"
export JAVA_HOME
VERSION=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n1)
[[ -n $VERSION ]] || die "no version in pom.xml"
case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64) ARCH=arm64 ;;
  *) ARCH=$(uname -m) ;;
esac
NAME="outpost-$VERSION-linux-$ARCH"
OUT="$ROOT/native/target"
STAGE="$OUT/$NAME"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building the agent (./mvnw -B -DskipTests package -pl edge-runtime -am)"
  ./mvnw -B -q -o -DskipTests package -pl edge-runtime -am || ./mvnw -B -DskipTests package -pl edge-runtime -am
fi
JAR=edge-runtime/target/outpost.jar
[[ -f $JAR && -d edge-runtime/target/lib ]] || die "$JAR or edge-runtime/target/lib missing: build edge-runtime first"

rm -rf "$STAGE" "$OUT/$NAME.tar.gz"
mkdir -p "$STAGE"/{bin,app/lib,conf,licenses}
cp "$JAR" "$STAGE/app/"
cp edge-runtime/target/lib/*.jar "$STAGE/app/lib/"
python3 native/dist/slim-jars.py "$STAGE/app/lib" "$ARCH"
# The Kafka client (11 MiB) serves only hubs with hub.backend: kafka, never a device; such a hub runs
# from a checkout (docs/FLEET-KAFKA.md, "Shipping"), and this one says so if asked.
rm -f "$STAGE"/app/lib/kafka-clients-*.jar
# The native libraries of zstd-jni, sqlite-jdbc, JNA, lz4-java and Netty's epoll transport, unpacked once here: the
# launcher points the agent at app/native (-Doutpost.native.prebuilt for the first three, java.library.path, which the
# last two try first), so a start unpacks nothing into the data directory or /tmp (edge NativeLibraries; the jars keep
# their copies for a start where these do not load, e.g. a noexec mount).
case "$ARCH" in
  amd64) SQLITE_ARCH=x86_64 ;;
  arm64) SQLITE_ARCH=aarch64 ;;
  *) SQLITE_ARCH=$ARCH ;;
esac
mkdir -p "$STAGE/app/native"
python3 - "$STAGE/app" "$ARCH" "$SQLITE_ARCH" <<'PY'
import glob, os, sys, zipfile
app, arch, sqlite_arch = sys.argv[1:4]
jna_arch = {"amd64": "x86-64", "arm64": "aarch64"}.get(arch, arch)
wanted = [("zstd-jni-*.jar", "linux/%s/libzstd-jni-" % (arch if arch == "amd64" else sqlite_arch)), ("sqlite-jdbc-*.jar", "org/sqlite/native/Linux/%s/libsqlitejdbc.so" % sqlite_arch),
          ("jna-[0-9]*.jar", "com/sun/jna/linux-%s/libjnidispatch.so" % jna_arch),
          ("lz4-java-*.jar", "net/jpountz/util/linux/%s/liblz4-java.so" % (arch if arch == "amd64" else sqlite_arch)),
          ("netty-transport-native-epoll-*-linux-%s.jar" % sqlite_arch.replace("aarch64", "aarch_64"),
           "META-INF/native/libnetty_transport_native_epoll_")]
for pattern, prefix in wanted:
    jars = glob.glob(os.path.join(app, "lib", pattern))
    names = [(j, n) for j in jars for n in zipfile.ZipFile(j).namelist() if n.startswith(prefix) and n.endswith(".so")]
    if len(names) != 1:
        sys.exit("[dist] ERROR: expected one %s* in %s, found %s" % (prefix, pattern, names))
    jar, name = names[0]
    with zipfile.ZipFile(jar) as z, open(os.path.join(app, "native", os.path.basename(name)), "wb") as out:
        out.write(z.read(name))
PY

# The modules: what jdeps finds in the classes, plus what is only reached by name at run time.
DEPS=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
  --class-path "$STAGE/app/lib/*" "$STAGE/app/outpost.jar" "$STAGE"/app/lib/*.jar 2>/dev/null | tail -n1)
[[ $DEPS == java.base* ]] || die "jdeps gave no module list: $DEPS"
# jdk.compiler is left out (2.8 MB of the tarball): chronicle-values' CompilerUtils loads javac in its
# static initialiser, though nothing is compiled at start any more (the one class Chronicle Map would
# compile ships with the store module); app/no-javac.jar holds the stand-in it then finds
# (native/dist/no-javac, DECISIONS "The device distribution").
# jdk.zipfs: Micronaut lists its service entries inside the jars through the zip file system (a
# service provider, which jdeps does not see). jdk.localedata is not needed; jdk.crypto.ec lives in
# java.base since JDK 22.
# java.desktop: jdeps finds it (java.beans in chronicle-core, snakeyaml, micronaut-router; java.awt
# in jna), but no path of the agent reaches it (test.sh's smoke runs every one on this runtime),
# and it is 11.5 MiB of the tarball.
MODULES="$(echo "$DEPS" | sed 's/,java\.desktop//; s/,jdk\.compiler//'),java.management,jdk.charsets,jdk.zipfs"
log "jlink: $MODULES"
# zip-0: the modules file uncompressed, the tarball's gzip compresses it (23.4 MB of the tarball
# against 28.7 with zip-6 inside); it costs 25 MB more on the device's disk (45 MB modules file),
# and nothing in start time or resident memory (the AOT cache holds the classes; docs/BENCHMARKS.md).
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress zip-0 --exclude-files "**/lib/ct.sym" --output "$STAGE/runtime"
# The shared libraries' symbol tables (not their dynamic symbols, which linking and JNI need): 5 MiB of
# libjvm.so, 1.5 MiB of the tarball; a crash report then names fewer frames inside the JVM itself.
if command -v strip >/dev/null; then
  find "$STAGE/runtime/lib" -name '*.so' -exec chmod u+w {} + -exec strip --strip-unneeded {} +
fi
# The stand-in for javac (see jdk.compiler above), compiled where jdk.compiler is not visible.
SHIM="$OUT/no-javac-classes"
rm -rf "$SHIM"
"$JAVA_HOME/bin/javac" --limit-modules java.base,java.compiler --release 25 -d "$SHIM" \
  native/dist/no-javac/com/sun/tools/javac/api/JavacTool.java
"$JAVA_HOME/bin/jar" --create --file "$STAGE/app/no-javac.jar" -C "$SHIM" .

# The JVM flags the project runs with (pom.xml outpost.jvm.opens), as a java argument file.
# Less the export of a javac package: the runtime has no jdk.compiler (the JVM would warn of it).
sed -n 's:.*<outpost.jvm.opens>\(.*\)</outpost.jvm.opens>.*:\1:p' pom.xml | tr ' ' '\n' \
  | sed '/^$/d; /=jdk\.compiler\//d' > "$STAGE/app/jvm.args"
[[ -s $STAGE/app/jvm.args ]] || die "outpost.jvm.opens not found in pom.xml"
cp native/dist/outpost "$STAGE/bin/outpost"
chmod 755 "$STAGE/bin/outpost"
cp docs/outpost.example.yaml "$STAGE/conf/outpost.yaml"
native/dist/licenses.sh "$STAGE/app/lib" "$STAGE/licenses"

# The Micronaut services of the distribution's class path, listed once: a start reads them instead of
# scanning every jar (edge-runtime ServiceIndex). Listed before the training, so the cache is trained on it.
"$STAGE/bin/outpost" service-index "$STAGE/app/service.index" >&2 || die "listing the services failed"

log "training the start-up cache on the distribution's own runtime"
"$STAGE/bin/outpost" aot >&2 || die "AOT training failed"
[[ -f $STAGE/app/outpost.aot ]] || die "no AOT cache was written"

tar -C "$OUT" -czf "$OUT/$NAME.tar.gz" "$NAME"
log "wrote $OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1); unpacked $(du -sh "$STAGE" | cut -f1))"
echo "$OUT/$NAME.tar.gz"
