package dev.outpost.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lowest sequence number and HLC a log may continue from, kept beside its cycle files: what the log's own records
 * cannot say once retention has deleted them all.
 *
 * <p>Design note. On open a log continues from its last readable record; if retention deleted every cycle file of every
 * lane (each cycle's time was over and nothing was written since), there is none, and numbering would start again at 1
 * — reusing sequence numbers that sync cursors, the hub's received ranges and Last-Event-ID already name. So before a
 * cycle file is deleted, the floor is raised to the log's last sequence number and the clock's time, durably (written
 * to a temporary file, forced, renamed over the old one, the directory forced), and on open the log continues from at
 * least the floor. Invariants: the floor only rises; it is on disk before the file whose records it stands for is
 * deleted; a floor file that is torn or fails its checksum counts as absent (logged), which loses nothing the
 * remaining cycle files hold.
 *
 * <p>On-disk format ({@value #FILE_NAME}, one ASCII line): {@code v1 SEQ HLC CRC} — decimal sequence number and HLC,
 * CRC32C of the text before it in hex.
 */
final class SeqFloor {
    static final String FILE_NAME = "seq-floor";
    private static final String VERSION = "v1";
    private static final Logger LOG = LoggerFactory.getLogger(SeqFloor.class);

    private final Path file;
    private long seq;
    private long hlc;

    /** Reads the floor of the log in {@code dir} (0, 0 if it has none). */
    SeqFloor(Path dir) {
        this.file = dir.resolve(FILE_NAME);
        long[] read = read(file);
        this.seq = read[0];
        this.hlc = read[1];
    }

    long seq() {
        return seq;
    }

    long hlc() {
        return hlc;
    }

    /** Raises the floor to {@code atLeastSeq} and {@code atLeastHlc}, on disk before it returns; never lowers it. */
    void raise(long atLeastSeq, long atLeastHlc) {
        long s = Math.max(seq, atLeastSeq);
        long h = Math.max(hlc, atLeastHlc);
        if (s == seq && h == hlc) {
            return;
        }
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(line(s, h).getBytes(StandardCharsets.US_ASCII)));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            throw new StoreException("write the sequence floor", file, "check free space and permissions", e);
        }
        seq = s;
        hlc = h;
    }

    static String line(long seq, long hlc) {
        String body = VERSION + " " + seq + " " + hlc;
        return body + " " + Long.toHexString(crc(body)) + "\n";
    }

    private static long[] read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (NoSuchFileException e) {
            return new long[] {0, 0};
        } catch (IOException e) {
            throw new StoreException("read the sequence floor", file, "check permissions of the data directory", e);
        }
        String[] parts = text.split(" ");
        try {
            if (parts.length == 4 && parts[0].equals(VERSION)) {
                String body = parts[0] + " " + parts[1] + " " + parts[2];
                if (Long.parseUnsignedLong(parts[3], 16) == crc(body)) {
                    return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
                }
            }
        } catch (NumberFormatException e) {
            // falls through: not a floor this version wrote
        }
        LOG.atWarn()
                .addKeyValue(
                        LogFields.ADVICE,
                        "if every cycle file of the log was deleted too, check the hub's received ranges: sequence"
                                + " numbers may repeat")
                .log("{}: not a valid sequence floor (ignored; the log continues from its last record)", file);
        return new long[] {0, 0};
    }

    private static long crc(String body) {
        CRC32C c = new CRC32C();
        c.update(body.getBytes(StandardCharsets.US_ASCII));
        return c.getValue();
    }
}
