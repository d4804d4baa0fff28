package dev.outpost.edge.dictionaries;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.outpost.compress.Dictionary;
import dev.outpost.compress.Purpose;
import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.store.Catalog;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training whose dictionary's 32-bit id the catalog holds already, with a real log and a real SQLite catalog. Zstd's
 * trainer cannot be steered to a given id, so the trainer here hands back one of two dictionaries whose content
 * hashes share their id (found by a birthday search), the other being in the catalog.
 */
class DictionaryTrainingTest {
    @TempDir
    Path dir;

    LanedEventLog log;
    Catalog catalog;
    final List<Integer> samplesSeen = new ArrayList<>();

    @BeforeEach
    void open() {
        log = LanedEventLog.open(LogOptions.defaults(dir.resolve("log")), HybridClock.system());
        catalog = Catalog.open(dir.resolve("catalog.db"));
        List<EventDraft> drafts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            drafts.add(EventDraft.of("s", ("{\"v\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
        }
        log.append(Lane.NORMAL, drafts);
    }

    @AfterEach
    void close() {
        catalog.close();
        log.close();
    }

    /** Training that yields {@code d} (whatever the samples) from stream s's events. */
    DictionaryTraining yielding(Dictionary d) {
        return new DictionaryTraining(log, catalog, ConfigLoader::defaults, (samples, bytes) -> {
            samplesSeen.add(samples.size());
            return d;
        });
    }

    /** Two raw-content dictionaries, different bytes, one id. */
    static Dictionary[] collidingPair() {
        Map<Long, byte[]> seen = new HashMap<>();
        for (int i = 0; ; i++) {
            byte[] b = ("raw content dictionary " + i).getBytes(StandardCharsets.UTF_8);
            byte[] other = seen.putIfAbsent(Dictionary.idOf(b), b);
            if (other != null) {
                return new Dictionary[] {Dictionary.of(other), Dictionary.of(b)};
            }
        }
    }

    /**
     * The catalog holds another dictionary under the trained one's id: training threw the catalog's StoreException
     * (a 500 over HTTP); now it is the IdTaken outcome naming the row that holds the id, and nothing is stored.
     */
    @Test
    void aTrainedDictionaryWhoseIdIsTakenIsIdTakenAndNothingIsStored() {
        Dictionary[] pair = collidingPair();
        assertEquals(pair[0].id(), pair[1].id());
        assertNotEquals(pair[0], pair[1]);
        catalog.putDictionary("other", Purpose.WIRE, pair[0], 7);
        Catalog.DictionaryInfo held = catalog.dictionaries(10).getFirst();

        DictionaryTraining.Outcome o = yielding(pair[1]).train("s", Purpose.WIRE, 100, 1024);

        DictionaryTraining.IdTaken taken = assertInstanceOf(DictionaryTraining.IdTaken.class, o);
        assertEquals(held, taken.holder());
        assertFalse(taken.sameDictionary());
        assertEquals(List.of(20), samplesSeen, "trained on the stream's events");
        assertEquals(List.of(held), catalog.dictionaries(10), "nothing stored");
        assertEquals(pair[0], catalog.find(pair[0].id()), "the first one kept");
    }

    /** The same dictionary again, for the same stream and purpose, is the row stored the first time. */
    @Test
    void theSameDictionaryAgainIsTheStoredRow() {
        Dictionary d = collidingPair()[0];
        DictionaryTraining training = yielding(d);
        DictionaryTraining.Trained first =
                assertInstanceOf(DictionaryTraining.Trained.class, training.train("s", Purpose.WIRE, 100, 1024));
        assertEquals(List.of(first.dictionary()), catalog.dictionaries(10), "the answer is the stored row");
        DictionaryTraining.Trained again =
                assertInstanceOf(DictionaryTraining.Trained.class, training.train("s", Purpose.WIRE, 10, 1024));
        assertEquals(first.dictionary(), again.dictionary(), "its samples and created_at, not this run's");
        DictionaryTraining.IdTaken elsewhere =
                assertInstanceOf(DictionaryTraining.IdTaken.class, training.train("s", Purpose.HOT_LOG, 100, 1024));
        assertEquals(first.dictionary(), elsewhere.holder(), "held for the wire, so not stored for the hot log");
        assertEquals(List.of(first.dictionary()), catalog.dictionaries(10));
    }
}
