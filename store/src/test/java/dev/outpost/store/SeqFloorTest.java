package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sequence floor's file: durable, only rising, and a damaged one reads as absent. */
class SeqFloorTest {
    @TempDir
    Path dir;

    @Test
    void raisedFloorIsReadBackAndNeverLowered() {
        new SeqFloor(dir).raise(42, 7_000);
        SeqFloor f = new SeqFloor(dir);
        assertEquals(42, f.seq());
        assertEquals(7_000, f.hlc());
        f.raise(10, 9_000); // a lower seq does not lower it; a higher HLC raises that alone
        SeqFloor again = new SeqFloor(dir);
        assertEquals(42, again.seq());
        assertEquals(9_000, again.hlc());
    }

    @Test
    void aTornOrAlteredFloorCountsAsAbsent() throws Exception {
        Path file = dir.resolve(SeqFloor.FILE_NAME);
        String good = SeqFloor.line(42, 7_000);
        Files.writeString(file, good.substring(0, good.length() / 2));
        assertEquals(0, new SeqFloor(dir).seq());
        Files.writeString(file, good.replace("42", "43"));
        assertEquals(0, new SeqFloor(dir).seq());
        Files.writeString(file, good);
        assertEquals(42, new SeqFloor(dir).seq());
    }
}
