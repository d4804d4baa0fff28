package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./outpost launcher: its search for Java 25, and its build in a checkout. */
class LauncherTest {
    @TempDir
    Path dir;

    private static final Path LAUNCHER =
            Path.of("..", "outpost").toAbsolutePath().normalize();

    private static String run(Path jvmDir, String javaHome, int[] exit) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", LAUNCHER.toString(), "help").redirectErrorStream(true);
        pb.environment().put("OUTPOST_JVM_DIR", jvmDir.toString());
        pb.environment().put("OUTPOST_SKIP_BUILD", "1");
        if (javaHome == null) {
            pb.environment().remove("JAVA_HOME");
        } else {
            pb.environment().put("JAVA_HOME", javaHome);
        }
        return AgentProcess.runToEnd(pb, exit);
    }

    @Test
    void missingJava25IsAClearErrorNamingWhereItLooked() throws Exception {
        // A JAVA_HOME that is too old (a fake JDK reporting 17) and an empty JDK directory.
        Path old = dir.resolve("jdk17");
        Files.createDirectories(old.resolve("bin"));
        Path java = old.resolve("bin").resolve("java");
        Files.writeString(java, "#!/bin/sh\necho '    java.specification.version = 17' >&2\n");
        assertTrue(java.toFile().setExecutable(true));
        int[] exit = new int[1];
        String out = run(dir.resolve("empty-jvm-dir"), old.toString(), exit);
        assertEquals(1, exit[0], out);
        assertTrue(out.contains("Java 25 or newer is required"), out);
        assertTrue(out.contains("JAVA_HOME=" + old), out);
        assertTrue(out.contains(dir.resolve("empty-jvm-dir") + "/temurin-25*"), out);
    }

    @Test
    void findsJava25FromTheJdkDirectoryWhenJavaHomeIsUnset() throws Exception {
        Path jvmDir = dir.resolve("jvm");
        Files.createDirectories(jvmDir);
        Files.createSymbolicLink(jvmDir.resolve("temurin-25-test"), Path.of(System.getProperty("java.home")));
        int[] exit = new int[1];
        // The jar may not be built yet while tests run: either the usage text or Java's own
        // "Unable to access jarfile" proves Java 25 was found and started.
        String out = run(jvmDir, null, exit);
        assertTrue(out.contains("usage: outpost") || out.contains("Unable to access jarfile"), out);
    }

    /**
     * A fresh checkout builds on first use, showing Maven's module progress rather than a silent minute, and writes
     * nothing of ours into the local Maven repository (it packages; it does not install).
     */
    @Test
    @Tag("slow") // a whole build of a clone
    void aCheckoutBuildsShowingProgressAndInstallsNothing() throws Exception {
        Path root = LAUNCHER.getParent();
        Path clone = dir.resolve("clone");
        int[] exit = new int[1];
        String cloned = AgentProcess.runToEnd(
                new ProcessBuilder("git", "clone", "-q", root.toString(), clone.toString()).redirectErrorStream(true),
                exit);
        assertEquals(0, exit[0], cloned);
        Path ours = Path.of(System.getProperty("user.home"), ".m2", "repository", "dev", "outpost");
        FileTime before = FileTime.fromMillis(System.currentTimeMillis() - 1_000);
        ProcessBuilder pb =
                new ProcessBuilder("bash", clone.resolve("outpost").toString(), "--version").redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("OUTPOST_SKIP_BUILD");
        String out = AgentProcess.runToEnd(pb, exit);
        assertEquals(0, exit[0], out);
        assertTrue(out.contains("outpost: building"), out);
        assertTrue(out.contains("[INFO] Building Outpost edge runtime"), "Maven's progress is shown:\n" + out);
        assertTrue(out.contains("outpost 0.1.0-SNAPSHOT"), out);
        assertTrue(Files.isRegularFile(clone.resolve("edge-runtime/target/outpost.jar")));
        if (Files.isDirectory(ours)) {
            // What install would have put there is this build's jar, byte for byte (others may install theirs).
            byte[] built = Files.readAllBytes(clone.resolve("edge-runtime/target/outpost.jar"));
            try (Stream<Path> files = Files.walk(ours)) {
                assertEquals(
                        java.util.List.of(),
                        files.filter(f -> modifiedAfter(f, before) && sameBytes(f, built))
                                .toList(),
                        "the build installed its jar into the local Maven repository");
            }
        }
    }

    private static boolean sameBytes(Path f, byte[] b) {
        try {
            return Files.size(f) == b.length && java.util.Arrays.equals(Files.readAllBytes(f), b);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static boolean modifiedAfter(Path f, FileTime t) {
        try {
            return Files.isRegularFile(f) && Files.getLastModifiedTime(f).compareTo(t) > 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
