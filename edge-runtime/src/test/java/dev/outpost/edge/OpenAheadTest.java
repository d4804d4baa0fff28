package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.ChronicleStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store opened beside the start is handed over as it opened, and closed whatever happens to the start. */
class OpenAheadTest {
    @TempDir
    Path dir;

    @Test
    void handsOverTheStoreAndClosesIt() throws Exception {
        AtomicInteger closed = new AtomicInteger();
        AutoCloseable store = closed::incrementAndGet;
        OpenAhead<AutoCloseable> ahead = OpenAhead.start("test-open", () -> store);
        assertSame(store, ahead.get());
        ahead.close();
        assertEquals(1, closed.get());
    }

    @Test
    void throwsWhatOpeningThrewAndClosesNothing() throws Exception {
        IllegalStateException failure = new IllegalStateException("state store in use");
        OpenAhead<AutoCloseable> ahead = OpenAhead.start("test-open", () -> {
            throw failure;
        });
        assertSame(failure, assertThrows(IllegalStateException.class, ahead::get));
        ahead.close(); // nothing opened: nothing to close, no failure
    }

    /**
     * The event log cannot open (its directory is a file): the start fails naming the log, and the state store it
     * opened beside the log is closed — its lock released, so it opens again at once in this process.
     */
    @Test
    void aStartThatFailsReleasesTheStateStoreOpenedAhead() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("log"), "not a directory");
        Path cfg = dir.resolve("outpost.yaml");
        Files.writeString(cfg, "data:\n  dir: " + data + "\nhttp:\n  port: 0\n");
        OutpostConfig config = ConfigLoader.load(cfg);
        RuntimeException e = assertThrows(RuntimeException.class, () -> new Agent(config));
        assertTrue(String.valueOf(e.getMessage()).contains("log"), e.toString());
        Path stateFile = data.resolve("state").resolve("state.cm3");
        assertTrue(Files.isDirectory(stateFile.getParent()), "the state store was opened ahead of the log");
        try (ChronicleStateStore again = ChronicleStateStore.open(
                stateFile, config.state().documentsMax(), (int) config.state().docBytesAvg())) {
            assertEquals(0, again.size());
        }
    }
}
