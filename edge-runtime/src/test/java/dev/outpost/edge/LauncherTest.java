package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ./outpost launcher's search for Java 25. */
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
}
