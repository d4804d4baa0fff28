package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state map grows in steps, migrates crash-safely, and reopens without recovery after a clean close. */
class StateStoreGrowthTest {
    @TempDir
    Path dir;

    static StateDoc doc(int i) {
        return new StateDoc(
                "n",
                "id-" + i,
                1,
                100 + i,
                "edge-1",
                i + 1,
                false,
                ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8));
    }

    static void assertDocs(ChronicleStateStore s, int count) {
        for (int i = 0; i < count; i++) {
            StateDoc d = s.get("n", "id-" + i);
            assertNotNull(d, "document " + i + " of " + count);
            assertArrayEquals(doc(i).doc(), d.doc(), "document " + i);
        }
    }

    /** Names of the files in the store's directory, sorted. */
    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void growsInStepsUpToCapacityAndReportsEveryFileChange() throws Exception {
        Path f = dir.resolve("state.cm3");
        AtomicLong reported = new AtomicLong();
        long firstFile;
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 100, 64, 16, step -> {})) {
            s.onFileBytesChanged(reported::addAndGet);
            assertEquals(16, s.entries());
            firstFile = s.fileBytes();
            List<Long> steps = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                s.put(doc(i));
                if (steps.isEmpty() || steps.getLast() != s.entries()) {
                    steps.add(s.entries());
                }
            }
            assertEquals(List.of(16L, 32L, 64L, 100L), steps, "doubles, then the last step is documents_max");
            assertThrows(StateStoreFullException.class, () -> s.put(doc(100)));
            s.put(new StateDoc("n", "id-7", 2, 500, "edge-1", 200, false, doc(7).doc())); // an update still fits
            assertDocs(s, 100);
            assertEquals(List.of("state.g4.e100.cm3", "state.lock"), files(dir), "the old maps are gone");
            // What was reported is what the files grew by: disk accounting can add it up.
            assertEquals(s.fileBytes() - firstFile, reported.get());
            assertEquals(Files.size(dir.resolve("state.g4.e100.cm3")), s.fileBytes());
        }
        assertEquals(StateDirectory.CLOSED, Files.readString(dir.resolve("state.lock")));
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 100, 64, 16, step -> {})) {
            assertFalse(s.recoveredOnOpen(), "a cleanly closed map opens without Chronicle's recovery");
            assertEquals(100, s.size());
            assertEquals(100, s.entries());
            assertDocs(s, 100);
        }
    }

    @Test
    void largeDocumentsGrowTheMapBeforeTheCountDoes() {
        String big = "{\"pad\":\"" + "x".repeat(2_000) + "\"}";
        try (ChronicleStateStore s = ChronicleStateStore.open(dir.resolve("state.cm3"), 1000, 64, 16, step -> {})) {
            for (int i = 0; i < 10; i++) {
                s.put(new StateDoc("n", "big-" + i, 1, 1, "e", i + 1, false, big.getBytes(StandardCharsets.UTF_8)));
            }
            assertTrue(s.entries() > 16, "10 documents of 2 KB do not fit the bytes of 16 x 64: " + s.entries());
            assertTrue(s.bytesHeld() <= s.bytesMax());
            for (int i = 0; i < 10; i++) {
                assertEquals(1, s.get("n", "big-" + i).version());
            }
        }
    }

    /**
     * Chronicle keeps an entry within one segment, so a small map takes only small documents: a
     * larger one grows the map first, and one too large for the map at capacity is refused (typed,
     * before anything is written), never Chronicle's IllegalArgumentException.
     */
    @Test
    void aDocumentTooLargeForTheSmallMapGrowsIt() {
        byte[] doc = ("{\"pad\":\"" + "x".repeat(8_000) + "\"}").getBytes(StandardCharsets.UTF_8);
        try (ChronicleStateStore s = ChronicleStateStore.open(dir.resolve("state.cm3"), 1000, 64, 16, step -> {})) {
            s.put(doc(0));
            s.put(new StateDoc("n", "large", 1, 1, "e", 2, false, doc));
            assertTrue(s.entries() > 16, "grown for one large document: " + s.entries());
            assertArrayEquals(doc, s.get("n", "large").doc());
            assertDocs(s, 1);
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(dir.resolve("small.cm3"), 16, 64, 16, step -> {})) {
            StateDoc large = new StateDoc("n", "large", 1, 1, "e", 1, false, doc);
            StateStoreFullException e = assertThrows(StateStoreFullException.class, () -> s.checkRoom(large));
            assertTrue(e.getMessage().contains("state.doc_bytes_avg"), e.getMessage());
            assertThrows(StateStoreFullException.class, () -> s.put(large));
            assertEquals(0, s.size());
        }
    }

    @Test
    void anUncleanStopIsRecoveredAndASecondOpenerIsRefused() throws Exception {
        Path f = dir.resolve("state.cm3");
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 100, 64, 16, step -> {})) {
            s.put(doc(0));
            StoreException e = assertThrows(StoreException.class, () -> ChronicleStateStore.open(f, 100, 64));
            assertTrue(e.getMessage().contains("has this data directory open"), e.getMessage());
            assertEquals(StateDirectory.OPEN, Files.readString(dir.resolve("state.lock")));
        }
        // What a kill leaves: the lock file still says open.
        Files.writeString(dir.resolve("state.lock"), StateDirectory.OPEN);
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 100, 64, 16, step -> {})) {
            assertTrue(s.recoveredOnOpen());
            assertDocs(s, 1);
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 100, 64, 16, step -> {})) {
            assertFalse(s.recoveredOnOpen());
        }
    }

    /** A map written before maps grew (state.cm3, sized for documents_max) is copied to a small one on open. */
    @Test
    void aLegacyFileIsMigratedToARightSizedMap() throws Exception {
        Path legacy = dir.resolve("state.cm3");
        try (ChronicleMap<String, byte[]> m = ChronicleMapBuilder.of(String.class, byte[].class)
                .name("outpost-state")
                .entries(1000)
                .averageKeySize(48)
                .averageValueSize(64 + 64)
                .maxBloatFactor(2.0)
                .createPersistedTo(legacy.toFile())) {
            for (int i = 0; i < 20; i++) {
                StateDoc d = doc(i);
                m.put(ChronicleStateStore.key(d.namespace(), d.id()), StateValueCodec.encode(d));
            }
        }
        long legacyBytes = Files.size(legacy);
        try (ChronicleStateStore s = ChronicleStateStore.open(legacy, 1000, 64, 16, step -> {})) {
            assertEquals(32, s.entries(), "20 documents: the step after 16");
            assertEquals(20, s.size());
            assertEquals(20, s.maxLogSeq());
            assertDocs(s, 20);
            assertTrue(s.fileBytes() * 4 < legacyBytes, s.fileBytes() + " vs " + legacyBytes);
        }
        assertEquals(List.of("state.g1.e32.cm3", "state.lock"), files(dir));
    }

    @Test
    void aMapFourTimesTooLargeShrinksOnOpen() throws Exception {
        Path f = dir.resolve("state.cm3");
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 1000, 64, 16, step -> {})) {
            for (int i = 0; i < 100; i++) {
                s.put(doc(i));
            }
            assertEquals(128, s.entries());
            for (int i = 10; i < 100; i++) {
                assertTrue(s.remove("n", "id-" + i));
            }
        }
        try (ChronicleStateStore s = ChronicleStateStore.open(f, 1000, 64, 16, step -> {})) {
            assertEquals(16, s.entries());
            assertEquals(10, s.size());
            assertDocs(s, 10);
        }
        assertEquals(List.of("state.g5.e16.cm3", "state.lock"), files(dir));
    }
}
