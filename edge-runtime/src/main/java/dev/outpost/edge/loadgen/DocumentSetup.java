package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * state-get's set-up: creates documents d-0 .. d-(N-1) with one PUT each (up to 4 connections in
 * parallel), before the measured run; any status but 200/201 or an I/O error fails the setup.
 */
final class DocumentSetup {
    /** Connections used to create the documents, at most. */
    static final int THREADS_MAX = 4;

    /** The run could not be prepared (state-get: creating the documents failed). */
    static final class SetupException extends RuntimeException {
        SetupException(String message) {
            super(message);
        }
    }

    private DocumentSetup() {}

    /** Creates the documents; throws {@link SetupException} naming the failures by kind. */
    static void createDocuments(Options o, HttpConnection.Target address) {
        byte[][] puts = Payloads.statePuts(o.hostHeader(), o.statePath(), o.documents(), o.eventBytes(), 7);
        int threads = Math.min(Math.min(THREADS_MAX, o.connections()), o.documents());
        ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
        List<Thread> started = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            final int from = t;
            Thread th =
                    new Thread(() -> put(address, puts, o.documents(), from, threads, failures), "loadgen-setup-" + t);
            th.setDaemon(true);
            started.add(th);
            th.start();
        }
        try {
            for (Thread th : started) {
                th.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SetupException("interrupted while creating the documents");
        }
        if (!failures.isEmpty()) {
            Map<String, Long> kinds = new TreeMap<>();
            failures.forEach((k, v) -> kinds.put(k, v.sum()));
            throw new SetupException("creating the " + o.documents() + " documents failed: " + kinds);
        }
    }

    /**
     * One set-up thread: PUTs documents from, from + step, ... below documents on one connection
     * (reopened if the server closes it). The pool may hold several variants per document; the
     * first {@code documents} entries are one of each.
     */
    private static void put(
            HttpConnection.Target address,
            byte[][] puts,
            int documents,
            int from,
            int step,
            ConcurrentHashMap<String, LongAdder> failures) {
        HttpConnection c = null;
        try {
            for (int d = from; d < documents; d += step) {
                if (c == null) {
                    c = new HttpConnection(address);
                }
                int status = c.exchange(puts[d]);
                if (status != 200 && status != 201) {
                    failures.computeIfAbsent("status " + status, k -> new LongAdder())
                            .increment();
                }
                if (c.closeAfter) {
                    c.close();
                    c = null;
                }
            }
        } catch (IOException e) {
            failures.computeIfAbsent("io: " + e, k -> new LongAdder()).increment();
        } finally {
            if (c != null) {
                c.close();
            }
        }
    }
}
