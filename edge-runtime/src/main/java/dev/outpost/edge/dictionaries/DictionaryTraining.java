package dev.outpost.edge.dictionaries;

import dev.outpost.compress.Dictionary;
import dev.outpost.compress.DictionaryTrainer;
import dev.outpost.compress.FrameException;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.config.OutpostConfig;
import dev.outpost.store.Catalog;
import dev.outpost.store.DictionaryPut;
import dev.outpost.store.EventCursor;
import dev.outpost.store.EventLog;
import dev.outpost.store.RecordView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Trains a Zstd dictionary from a stream's most recent events in the log and keeps it in the catalog (operator
 * triggered: {@code POST /v1/dictionaries}).
 *
 * <p>Invariants: memory is bounded by the samples asked for (at most {@link #SAMPLES_MAX} events are held); the log
 * is read at most query.scan_records_max records back; it runs on the caller's thread, which must not be an event
 * loop (training takes seconds).
 */
public final class DictionaryTraining {
    /** Most samples one training run takes. */
    public static final int SAMPLES_MAX = 20_000;

    /** Samples taken when the request names none. */
    public static final int SAMPLES_DEFAULT = 2_000;

    /** What a training run came to. */
    public sealed interface Outcome {}

    /**
     * Trained and stored, as {@code dictionary}; or the same dictionary was stored for the stream and purpose before,
     * and {@code dictionary} is that row (training again is idempotent).
     */
    public record Trained(Catalog.DictionaryInfo dictionary) implements Outcome {}

    /**
     * The catalog holds the trained dictionary's id already, as {@code holder}, and nothing was stored: with other
     * bytes (a collision of the 32-bit content hash) or, if {@code sameDictionary}, with the same bytes for another
     * stream or purpose (the catalog keeps one stream and purpose per dictionary). Different samples or another size
     * give another dictionary.
     */
    public record IdTaken(Catalog.DictionaryInfo holder, boolean sameDictionary) implements Outcome {}

    /** The stream has too few recent events to train from ({@code samples} found). */
    public record NotEnoughSamples(int samples, String why) implements Outcome {}

    /** The native Zstd library is not loaded, so nothing can be trained. */
    public record ZstdUnavailable(String why) implements Outcome {}

    private final EventLog log;
    private final Catalog catalog;
    private final Supplier<OutpostConfig> config;
    private final Trainer trainer;

    /** Trains a dictionary of about {@code bytes} from samples, as {@link DictionaryTrainer#train} does. */
    interface Trainer {
        Dictionary train(List<byte[]> samples, int bytes);
    }

    public DictionaryTraining(EventLog log, Catalog catalog, Supplier<OutpostConfig> config) {
        this(log, catalog, config, DictionaryTrainer::train);
    }

    DictionaryTraining(EventLog log, Catalog catalog, Supplier<OutpostConfig> config, Trainer trainer) {
        this.log = log;
        this.catalog = catalog;
        this.config = config;
        this.trainer = trainer;
    }

    /** Trains a dictionary of about {@code bytes} bytes from up to {@code samples} recent events of {@code stream}. */
    public Outcome train(String stream, Purpose purpose, int samples, int bytes) {
        List<byte[]> recent = recentEvents(stream, Math.min(samples, SAMPLES_MAX));
        Dictionary d;
        try {
            d = trainer.train(recent, bytes);
        } catch (IllegalArgumentException e) {
            return new NotEnoughSamples(recent.size(), e.getMessage());
        } catch (FrameException e) {
            return new ZstdUnavailable(e.getMessage());
        }
        return switch (catalog.storeDictionary(stream, purpose, d, recent.size())) {
            case DictionaryPut.Stored s -> new Trained(s.row());
            case DictionaryPut.AlreadyStored a
            when a.row().stream().equals(stream) && a.row().purpose() == purpose -> new Trained(a.row());
            case DictionaryPut.AlreadyStored a -> new IdTaken(a.row(), true);
            case DictionaryPut.IdTaken t -> new IdTaken(t.row(), false);
        };
    }

    /** The stream's most recent events, reading at most query.scan_records_max records back. */
    private List<byte[]> recentEvents(String stream, int want) {
        long last = log.lastSeq();
        long from = Math.max(log.firstSeq(), last - config.get().query().scanRecordsMax() + 1);
        byte[] name = stream.getBytes(StandardCharsets.UTF_8);
        ArrayDeque<byte[]> recent = new ArrayDeque<>(want);
        try (EventCursor c = log.cursorFromSeq(Math.max(from, 1))) {
            RecordView v = new RecordView();
            while (c.next(v)) {
                if (v.streamEquals(name)) {
                    if (recent.size() == want) {
                        recent.removeFirst();
                    }
                    recent.addLast(v.payload());
                }
            }
        }
        return new ArrayList<>(recent);
    }

    /** The dictionaries the catalog holds (at most {@code max}). */
    public List<Catalog.DictionaryInfo> list(int max) {
        return catalog.dictionaries(max);
    }
}
