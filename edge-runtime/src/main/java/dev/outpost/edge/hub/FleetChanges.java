package dev.outpost.edge.hub;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.outpost.store.AppendResult;
import dev.outpost.store.EventDraft;
import dev.outpost.store.EventLog;
import dev.outpost.store.Lane;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Hub mode: changes a fleet operator publishes for the nodes to pull (state documents, stream definitions,
 * configuration), kept as events of the reserved stream {@value #STREAM} in the hub's own log, and the signal a
 * long-polling pull waits on.
 *
 * <p>Invariants: a change is published (and {@link #version()} moves) only once it is durable, so a pull that sees it
 * can never see it vanish after a crash; a pull waits at most the time it asks for.
 */
public final class FleetChanges {
    /** The reserved stream that carries fleet changes (hub to nodes) in a hub's own log. */
    public static final String STREAM = "_fleet";

    private static final JsonFactory JSON = new JsonFactory();

    /**
     * Where a change was stored.
     *
     * @param seq its sequence number in the hub's log (the position nodes pull after)
     * @param hlc when the hub stored it
     */
    public record Published(long seq, long hlc) {}

    private final EventLog log;
    private final Object signal = new Object();
    private long version; // guarded by signal

    /** @param log the hub's own log */
    public FleetChanges(EventLog log) {
        this.log = log;
    }

    /** Appends a change for {@code target} (a node, or {@code all}); returns once it is durable. */
    public Published publish(String target, String changeJson) {
        AppendResult r = log.append(Lane.HIGH, List.of(EventDraft.of(STREAM, event(target, changeJson))));
        r.durable().join();
        synchronized (signal) {
            version++;
            signal.notifyAll();
        }
        return new Published(r.firstSeq(), r.firstHlc());
    }

    /** {@code {"stream":"_fleet","key":TARGET,"data":CHANGE}}: the change as an event of the hub's log. */
    private static byte[] event(String target, String changeJson) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + changeJson.length());
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("stream", STREAM);
            g.writeStringField("key", target);
            g.writeFieldName("data");
            g.writeRawValue(changeJson); // already JSON, checked by the controller that built it
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot fail
        }
        return out.toByteArray();
    }

    /** The hub's own log, where the changes are (pulls read them there). */
    public EventLog log() {
        return log;
    }

    /** How many changes were published since start (for long polls). */
    public long version() {
        synchronized (signal) {
            return version;
        }
    }

    /** Waits until a change is published after {@code version}, at most {@code millis}. */
    public void await(long version, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (signal) {
            long left;
            while (this.version == version && (left = deadline - System.currentTimeMillis()) > 0) {
                signal.wait(left);
            }
        }
    }
}
