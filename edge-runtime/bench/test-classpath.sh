# Sourced by jmh.sh and rules-cpu.sh (from the project root, with `die` defined): finds Java 25
# (JAVA_HOME), compiles edge-runtime and what it depends on with its tests (which runs the JMH
# annotation processor), writes edge-runtime's test classpath, and sets CP to it. Offline first;
# online if something is missing.
JAVA_HOME=$("$ROOT/outpost" java-home) || die "Java 25 not found (see the message above)"
export JAVA_HOME
CP_FILE=edge-runtime/target/jmh-classpath.txt
build=(-q -pl edge-runtime -am test-compile dependency:build-classpath
  -Dmdep.outputFile=target/jmh-classpath.txt -Dmdep.includeScope=test)
if ! ./mvnw -o "${build[@]}" >/dev/null 2>&1; then
  ./mvnw "${build[@]}" || die "build failed"
fi
[[ -s $CP_FILE ]] || die "$CP_FILE was not written"
CP="edge-runtime/target/classes:edge-runtime/target/test-classes:$(cat "$CP_FILE")"
