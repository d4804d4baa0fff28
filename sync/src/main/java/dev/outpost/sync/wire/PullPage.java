package dev.outpost.sync.wire;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A hub's answer to a pull: the changes for the node after the position it asked from, and the
 * position to ask from next.
 *
 * <p>Wire form: newline-delimited JSON, one line per change and a last line with the next
 * position (members in this order; an edge before this format took the first {@code "seq"} and
 * {@code "hlc"} of a line, and a line starting {@code {"next":} as the end):
 *
 * <pre>
 *   {"seq":S,"hlc":H,"change":{...a FleetChange...}}
 *   ...
 *   {"next":N}
 * </pre>
 *
 * @param changes in hub sequence order
 * @param next the hub sequence to ask after next time (at least the last change's)
 */
public record PullPage(List<Change> changes, long next) {
    /** Most bytes of one line a reader accepts (a state document is bounded far below this). */
    public static final int LINE_BYTES_MAX = 64 << 20;

    /**
     * One change as the hub logged it.
     *
     * @param seq its sequence number in the hub's log
     * @param hlc when the hub published it (a state change's version: last writer wins)
     */
    public record Change(long seq, long hlc, FleetChange change) {}

    public PullPage {
        changes = List.copyOf(changes);
    }

    /** The answer as the hub sends it. */
    public byte[] toNdjson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + changes.size() * 256);
        try {
            for (Change c : changes) {
                try (JsonGenerator g = JsonMessage.generator(out)) {
                    g.writeStartObject();
                    g.writeNumberField("seq", c.seq());
                    g.writeNumberField("hlc", c.hlc());
                    g.writeFieldName("change");
                    FleetChanges.write(g, c.change());
                    g.writeEndObject();
                }
                out.write('\n');
            }
            try (JsonGenerator g = JsonMessage.generator(out)) {
                g.writeStartObject();
                g.writeNumberField("next", next);
                g.writeEndObject();
            }
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not expected: the sink is a byte array
        }
        return out.toByteArray();
    }

    /**
     * Reads a hub's answer. A line without its sequence, time or change object, or an answer without
     * its next line, fails the whole answer (the position cannot be trusted); a change of an unknown
     * kind or with a member missing is kept as {@link FleetChange.Unreadable} for the caller to skip.
     */
    public static PullPage parse(byte[] body) {
        List<Change> changes = new ArrayList<>();
        Long next = null;
        int start = 0;
        for (int lineNo = 1; start < body.length; lineNo++) {
            int end = start;
            while (end < body.length && body[end] != '\n') {
                end++;
            }
            if (end - start > LINE_BYTES_MAX) {
                throw WireException.malformed(
                        "read pull answer", "line " + lineNo + " is over " + LINE_BYTES_MAX + " bytes");
            }
            if (!blank(body, start, end)) {
                JsonMessage m = JsonMessage.parse("pull answer line " + lineNo, body, start, end - start);
                if (m.has("next")) {
                    next = m.longValue("next");
                } else {
                    changes.add(
                            new Change(m.longValue("seq"), m.longValue("hlc"), FleetChanges.read(m.object("change"))));
                }
            }
            start = end + 1;
        }
        if (next == null) {
            throw WireException.malformed("read pull answer", "no closing next line: the answer was cut short");
        }
        return new PullPage(changes, next);
    }

    private static boolean blank(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }
}
