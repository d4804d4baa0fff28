package dev.outpost.edge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class BoundedMapTest {
    static Ingestor.BoundedMap<String, Integer> filled(int capacity, int entries) {
        var m = new Ingestor.BoundedMap<String, Integer>(capacity);
        for (int i = 1; i <= entries; i++) {
            m.put("k" + i, i);
        }
        return m;
    }

    /** Shrinking keeps the newest entries, in order, and the smaller bound holds afterwards. */
    @Test
    void shrinkKeepsTheNewest() {
        var m = filled(10, 10);
        var small = m.resized(4);
        assertEquals(4, small.capacity());
        assertEquals(List.of("k7", "k8", "k9", "k10"), List.copyOf(small.keySet()));
        small.put("k11", 11);
        assertEquals(List.of("k8", "k9", "k10", "k11"), List.copyOf(small.keySet()), "oldest evicted");
        assertEquals(10, m.size(), "the original is left alone");
    }

    /** Growing keeps everything; the window then fills up to the larger bound. */
    @Test
    void growKeepsEverything() {
        var m = filled(4, 6).resized(8);
        assertEquals(List.of("k3", "k4", "k5", "k6"), List.copyOf(m.keySet()));
        for (int i = 7; i <= 12; i++) {
            m.put("k" + i, i);
        }
        assertEquals(8, m.size());
        assertEquals("k5", m.keySet().iterator().next());
    }
}
