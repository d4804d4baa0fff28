package dev.outpost.governor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskUsageTest {
    @TempDir
    Path dir;

    @Test
    void tracksWritesAndReconcilesWithTheFilesystem() throws Exception {
        var disk = new DiskUsage(dir);
        assertEquals(0, disk.bytes());
        disk.add(4096);
        disk.add(100);
        assertEquals(4196, disk.bytes());

        Files.write(dir.resolve("a.log"), new byte[1000]);
        Files.createDirectories(dir.resolve("streams/s1"));
        Files.write(dir.resolve("streams/s1/b.log"), new byte[2500]);
        assertEquals(3500, disk.reconcile());
        assertEquals(3500, disk.bytes());

        disk.add(500); // a write after the walk
        Files.delete(dir.resolve("a.log"));
        assertEquals(4000, disk.bytes());
        assertEquals(2500, disk.reconcile());
        disk.add(-10_000);
        assertEquals(0, disk.bytes()); // never negative
    }

    @Test
    void theWalkIsBoundedAndOnlyRaisesWhenCutShort() throws Exception {
        for (int i = 0; i < 10; i++) {
            Files.write(dir.resolve("f" + i), new byte[100]);
        }
        var disk = new DiskUsage(dir, 3);
        assertEquals(300, disk.reconcile()); // saw 3 of 10 files
        disk.add(5_000);
        assertEquals(5_300, disk.reconcile()); // cut short: a partial walk never lowers the tracked value
    }

    @Test
    void aMissingDirectoryMeasuresZero() {
        var disk = new DiskUsage(dir.resolve("absent"));
        disk.add(123);
        assertEquals(0, disk.reconcile());
    }
}
