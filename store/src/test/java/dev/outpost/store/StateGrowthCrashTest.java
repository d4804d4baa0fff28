package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A process growing its state map is SIGKILLed at each step of the migration (half copied, copied,
 * renamed into place, old map deleted): the next open finds exactly one complete map holding every
 * document written before, recovers it (the process died with it open), and grows on normally.
 */
class StateGrowthCrashTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"copying", "copied", "published", "retired"})
    void aKillAtAnyStepOfAMigrationLosesNothing(String step) throws Exception {
        Path file = dir.resolve("state.cm3");
        killAt(file, step);
        int docs = StateGrowthChild.FIRST_MAP_DOCS;
        List<String> left = StateStoreGrowthTest.files(dir);
        boolean renamed = step.equals("published") || step.equals("retired");
        try (ChronicleStateStore s = ChronicleStateStore.open(file, 1000, 64, docs, x -> {})) {
            assertTrue(s.recoveredOnOpen(), "the process died with the map open");
            assertEquals(renamed ? 2 * docs : docs, s.entries(), step + ": the map in place, found " + left);
            assertEquals(docs, s.size(), "the write that started the migration was never acknowledged");
            StateStoreGrowthTest.assertDocs(s, docs);
            assertEquals(
                    List.of("state.g" + (renamed ? 2 : 1) + ".e" + (renamed ? 2 * docs : docs) + ".cm3", "state.lock"),
                    StateStoreGrowthTest.files(dir),
                    "leftovers removed (was " + left + ")");
            for (int i = docs; i < 3 * docs; i++) {
                s.put(StateStoreGrowthTest.doc(i));
            }
            assertEquals(4 * docs, s.entries());
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(file, 1000, 64, docs, x -> {})) {
            assertFalse(s.recoveredOnOpen());
            StateStoreGrowthTest.assertDocs(s, 3 * docs);
        }
    }

    /** Runs {@link StateGrowthChild} until it reports {@code step}, then SIGKILLs it. */
    private static void killAt(Path file, String step) throws Exception {
        List<String> cmd = ChildJvm.command(StateGrowthChild.class, file.toString(), step);
        Path err = Files.createTempFile("state-growth-child-", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            assertEquals("AT " + step, line, "child output; stderr:\n" + Files.readString(err));
            p.destroyForcibly(); // SIGKILL while it waits inside the migration
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(err);
        }
    }
}
