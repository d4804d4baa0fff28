package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The value class Chronicle Map would compile with javac at start is in our source tree, exactly as the chronicle-values
 * in use generates it (header and one annotation added), and it is the class Chronicle Map finds. When an upgrade of
 * Chronicle changes the generated code this fails; the expected file is then written to target/ to copy over.
 */
class ChronicleValuesPregeneratedTest {
    static final String INTERFACE = "net.openhft.chronicle.hash.VanillaGlobalMutableState";
    static final Path SOURCE =
            Path.of("src/main/java/net/openhft/chronicle/hash/VanillaGlobalMutableState$$Native.java");

    @Test
    void theKeptSourceIsWhatChronicleValuesGenerates() throws Exception {
        String kept = Files.readString(SOURCE);
        int body = kept.indexOf("package ");
        String expected = kept.substring(0, body)
                + generated()
                        .replace(
                                "\npublic class ", "\n@SuppressWarnings({\"rawtypes\", \"unchecked\"})\npublic class ");
        if (!expected.equals(kept)) {
            Path fresh = Path.of("target", SOURCE.getFileName().toString());
            Files.writeString(fresh, expected);
            assertEquals(
                    expected, kept, "chronicle-values now generates other code: copy " + fresh + " over " + SOURCE);
        }
        Class<?> c = Class.forName(INTERFACE + "$$Native");
        assertNotNull(c.getProtectionDomain().getCodeSource());
        assertEquals(
                Path.of("target", "classes").toAbsolutePath(),
                Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()),
                "Chronicle Map loads the class from this module, not from javac");
    }

    private static String generated() throws Exception {
        Class<?> iface = Class.forName(INTERFACE);
        Class<?> model = Class.forName("net.openhft.chronicle.values.ValueModel");
        Object m = model.getMethod("acquire", Class.class).invoke(null, iface);
        Method gen = Class.forName("net.openhft.chronicle.values.Generators")
                .getDeclaredMethod("generateNativeClass", model, String.class);
        gen.setAccessible(true);
        return (String) gen.invoke(null, m, iface.getSimpleName() + "$$Native");
    }
}
