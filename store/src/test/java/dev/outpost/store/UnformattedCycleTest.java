package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Only a newest cycle file holding nothing at all is taken for one never written. */
class UnformattedCycleTest {
    @TempDir
    Path dir;

    private Path cycle(String name, long size, long setAt) throws Exception {
        Path f = dir.resolve(name);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(size);
            if (setAt >= 0) {
                r.seek(setAt);
                r.write(0x1a); // an excerpt's header, say, past a lost first page
            }
        }
        return f;
    }

    @Test
    void emptyAndAllZeroFilesHoldNothing() throws Exception {
        assertTrue(UnformattedCycle.unformatted(cycle("a.cq4", 0, -1)));
        assertTrue(UnformattedCycle.unformatted(cycle("b.cq4", 3, -1)));
        assertTrue(UnformattedCycle.unformatted(cycle("c.cq4", 20L << 20, -1)));
    }

    @Test
    void aByteSetAnywhereMeansWritten() throws Exception {
        // Chronicle's first excerpt of a FAST_HOURLY file starts at 65,808, after the store header and index
        assertFalse(UnformattedCycle.unformatted(cycle("a.cq4", 20L << 20, 65_808)));
        assertFalse(UnformattedCycle.unformatted(cycle("b.cq4", 20L << 20, (20L << 20) - 1)));
        assertFalse(UnformattedCycle.unformatted(cycle("c.cq4", 4, 0)));
    }

    @Test
    void onlyTheNewestIsRemovedAndOnlyIfItHoldsNothing() throws Exception {
        Path older = cycle("20261207-21F.cq4", 1 << 20, -1); // not the newest: left alone whatever it holds
        Path written = cycle("20261207-22F.cq4", 1 << 20, 65_808);
        Files.writeString(dir.resolve("metadata.cq4t"), "");
        assertEquals(Optional.empty(), UnformattedCycle.removeNewest(dir));
        assertTrue(Files.exists(written));
        Files.delete(written);
        Path unwritten = cycle("20261207-23F.cq4", 1 << 20, -1);
        assertEquals(Optional.of(unwritten), UnformattedCycle.removeNewest(dir));
        assertFalse(Files.exists(unwritten));
        assertTrue(Files.exists(older));
    }
}
