package dev.outpost.edge.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.outpost.edge.config.ConfigLoader;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.store.EventDraft;
import dev.outpost.store.HybridClock;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live feed against a simple model, over a real log: random appends, subscriptions (streams, starts), clients
 * that take what they are sent at once, late, or not at all for a while, cancellations. Driven turn by turn (no feed
 * thread), so every run is the same. At the end, for every subscriber, what it got — events and gaps — must be
 * exactly the model's: every event of its streams after its start, in seq order, once, unless inside a gap it was told
 * of; nothing it was not asked for.
 */
class LiveFeedModelTest {
    private static final String[] STREAMS = {"a", "b", "c"};

    @TempDir
    Path dir;

    /**
     * Frames an event as its seq (8 bytes): what a client decodes. With a {@link FramedMemory}, in its direct buffers
     * (null when it has no room), else on the heap.
     */
    private static final class SeqFraming implements Framing {
        private final FramedMemory memory;

        SeqFraming(FramedMemory memory) {
            this.memory = memory;
        }

        @Override
        public boolean roomy() {
            return memory == null || memory.roomy();
        }

        @Override
        public Framed frame(Round round) {
            ByteBuf out = memory == null ? Unpooled.buffer(round.count() * 8) : memory.take(round.count() * 8);
            if (out == null) {
                return null;
            }
            int[] ends = new int[round.count()];
            for (int i = 0; i < round.count(); i++) {
                out.writeLong(round.seq(i));
                ends[i] = out.writerIndex();
            }
            return new Framed(out, ends);
        }
    }

    /** A client: what it received, in order; what it has not taken yet (its connection's backlog). */
    private static class Client implements Outlet {
        final List<Long> events = new ArrayList<>();
        final List<long[]> gaps = new ArrayList<>();
        final Deque<Runnable> untaken = new ArrayDeque<>();
        boolean slow;
        boolean ended;

        @Override
        public synchronized void events(ByteBuf frames, int count, Runnable taken) {
            while (frames.isReadable()) {
                events.add(frames.readLong());
            }
            // Held until taken, as a connection holds what it has not written.
            queue(() -> {
                frames.release();
                taken.run();
            });
        }

        @Override
        public synchronized void gap(long fromSeq, long toSeq, long skipped, Runnable taken) {
            gaps.add(new long[] {fromSeq, toSeq, events.size()});
            queue(taken);
        }

        @Override
        public synchronized void heartbeat(Runnable taken) {
            queue(taken);
        }

        @Override
        public synchronized void close(String reason) {
            ended = true;
        }

        private void queue(Runnable taken) {
            if (slow) {
                untaken.add(taken);
            } else {
                taken.run();
            }
        }

        synchronized void drain() {
            while (!untaken.isEmpty()) {
                untaken.poll().run();
            }
        }
    }

    private record Sub(Client client, LiveFeed.Subscription handle, List<String> streams, long after) {}

    @Test
    void everySubscriberGetsExactlyItsEventsInOrderOrIsToldOfTheGap() throws Exception {
        for (long seed = 1; seed <= 12; seed++) {
            run(seed, dir.resolve("run-" + seed), "", 30);
        }
    }

    /**
     * The same while ingest is busy (up to 3,000 events an append: tens of thousands a second) and the send budget is
     * tiny:
     * the feed holds back, skips ahead without reading, and subscribers are told of their gaps; still exact.
     */
    @Test
    void underATinySendBudgetWhileIngestIsBusyEverySubscriberIsStillExactOrToldOfTheGap() throws Exception {
        for (long seed = 1; seed <= 6; seed++) {
            run(seed, dir.resolve("busy-" + seed), "  busy_send_bytes_per_second_max: 2KiB\n", 3_000);
        }
    }

    /**
     * The same when framed rounds have little memory (16 KiB: two full rounds) and slow clients hold what they were
     * sent: rounds go unframed for a while, their subscribers are served later or told of a gap; still exact, and the
     * memory held never passes the limit.
     */
    @Test
    void withLittleMemoryForFramedRoundsEverySubscriberIsStillExactOrToldOfTheGap() throws Exception {
        long refused = 0;
        for (long seed = 1; seed <= 8; seed++) {
            FramedMemory memory = new FramedMemory(16 * 1024);
            run(seed, dir.resolve("memory-" + seed), "", 600, memory);
            refused += memory.refused();
            assertEquals(0, memory.held(), "seed " + seed + ": every framed round was let go");
        }
        assertTrue(refused > 0, "the limit was reached in some run");
    }

    /**
     * Closing every subscription when the agent stops: a transport whose event loop already stopped (the server closed
     * first) refuses the close; the others are still ended, every slot let go.
     */
    @Test
    void closingAllGoesOnPastATransportWhoseLoopIsGone() throws Exception {
        Path cfg = dir.resolve("close.yaml");
        Files.writeString(cfg, "data:\n  dir: " + dir.resolve("close-data") + "\n");
        try (LanedEventLog log =
                LanedEventLog.open(LogOptions.defaults(dir.resolve("close-log")), HybridClock.system())) {
            Metrics metrics = new Metrics();
            LiveFeed feed = new LiveFeed(log, null, ConfigLoader.load(cfg), metrics, System::nanoTime);
            Client gone = new Client() {
                @Override
                public synchronized void close(String reason) {
                    throw new java.util.concurrent.RejectedExecutionException("event loop terminated");
                }
            };
            Client ok = new Client();
            feed.subscribe(TailFilter.of(List.of("a"), null, null), new TailStart.Now(), new SeqFraming(null), gone);
            feed.subscribe(TailFilter.of(List.of("a"), null, null), new TailStart.Now(), new SeqFraming(null), ok);
            feed.turn();
            assertEquals(2, metrics.value("outpost_live_subscribers"));
            feed.closeAll("the agent is stopping");
            assertTrue(ok.ended, "the other subscription was ended");
            assertEquals(0, metrics.value("outpost_live_subscribers"), "every slot let go");
        }
    }

    private void run(long seed, Path runDir, String liveConfig, int appendMax) throws Exception {
        run(seed, runDir, liveConfig, appendMax, null);
    }

    private void run(long seed, Path runDir, String liveConfig, int appendMax, FramedMemory memory) throws Exception {
        Random r = new Random(seed);
        Files.createDirectories(runDir);
        Path cfg = runDir.resolve("outpost.yaml");
        Files.writeString(
                cfg,
                "data:\n  dir: " + runDir.resolve("data") + "\nlive:\n  buffer_messages_max: 40\n"
                        + "  lag_events_max: 150\n  heartbeat_millis: 100\n" + liveConfig);
        Map<Long, String> streamOf = new HashMap<>();
        List<Sub> subs = new ArrayList<>();
        try (LanedEventLog log = LanedEventLog.open(LogOptions.defaults(runDir.resolve("log")), HybridClock.system())) {
            long[] clock = {0};
            LiveFeed feed = new LiveFeed(log, null, ConfigLoader.load(cfg), new Metrics(), () -> clock[0]);
            for (int step = 0; step < 400; step++) {
                int roll = r.nextInt(10);
                if (roll < 5) {
                    append(log, r, streamOf, appendMax);
                } else if (roll < 7 && subs.size() < 12) {
                    subs.add(subscribe(feed, log, r, memory));
                } else if (roll == 7 && !subs.isEmpty()) {
                    Client c = subs.get(r.nextInt(subs.size())).client();
                    c.slow = !c.slow;
                    c.drain();
                }
                clock[0] += 10_000_000; // 10 ms a step: heartbeats come due now and then
                for (int t = r.nextInt(3); t > 0; t--) {
                    feed.turn();
                    assertTrue(memory == null || memory.held() <= memory.bytesMax(), "framed memory within its limit");
                }
            }
            for (Sub s : subs) {
                s.client().slow = false;
                s.client().drain();
            }
            // Until quiet: the clock moves on too, so gaps owed are told at the next tick.
            int quiet = 0;
            for (int t = 0; t < 10_000 && quiet < 20; t++) {
                subs.forEach(s -> s.client().drain());
                clock[0] += 10_000_000;
                quiet = feed.turn() ? 0 : quiet + 1;
            }
            for (Sub s : subs) {
                check(seed, s, streamOf, log.lastSeq());
                s.handle().cancel();
            }
            feed.turn();
            feed.closeAll("the test is over");
        }
    }

    private static void append(LanedEventLog log, Random r, Map<Long, String> streamOf, int max) {
        List<EventDraft> drafts = new ArrayList<>();
        for (int i = 1 + r.nextInt(max); i > 0; i--) {
            String stream = STREAMS[r.nextInt(STREAMS.length)];
            drafts.add(new EventDraft(stream, null, null, 0, 1, null, "{}".getBytes(StandardCharsets.UTF_8)));
        }
        long first = log.append(Lane.NORMAL, drafts).firstSeq();
        for (int i = 0; i < drafts.size(); i++) {
            streamOf.put(first + i, drafts.get(i).stream());
        }
    }

    private static Sub subscribe(LiveFeed feed, LanedEventLog log, Random r, FramedMemory memory) {
        List<String> streams = new ArrayList<>();
        for (String s : STREAMS) {
            if (r.nextBoolean()) {
                streams.add(s);
            }
        }
        long last = log.lastSeq();
        TailStart start = switch (r.nextInt(3)) {
            case 0 -> new TailStart.Now();
            case 1 -> new TailStart.AtSeq(1 + (last == 0 ? 0 : r.nextLong(last)));
            default -> new TailStart.After(last == 0 ? 0 : r.nextLong(last));
        };
        long after = switch (start) {
            case TailStart.Now n -> last;
            case TailStart.AtSeq a -> a.seq() - 1;
            case TailStart.After a -> a.seq();
            case TailStart.AtTime t -> throw new AssertionError();
        };
        Client c = new Client();
        c.slow = r.nextInt(3) == 0;
        LiveFeed.Subscription h = feed.subscribe(TailFilter.of(streams, null, null), start, new SeqFraming(memory), c);
        return new Sub(c, h, streams, after);
    }

    private static void check(long seed, Sub s, Map<Long, String> streamOf, long lastSeq) {
        TreeSet<Long> expected = new TreeSet<>();
        for (long seq = s.after() + 1; seq <= lastSeq; seq++) {
            if (s.streams().isEmpty() || s.streams().contains(streamOf.get(seq))) {
                expected.add(seq);
            }
        }
        for (long[] g : s.client().gaps) {
            expected.subSet(g[0], true, g[1], true).clear();
            int before = (int) g[2];
            assertTrue(before == 0 || s.client().events.get(before - 1) < g[0], "seed " + seed + ": a gap is after");
            assertTrue(
                    before == s.client().events.size() || s.client().events.get(before) > g[1],
                    "seed " + seed + ": events after a gap are past it");
        }
        List<Long> want = new ArrayList<>(expected);
        List<Long> got = s.client().events;
        int at = 0;
        while (at < Math.min(want.size(), got.size()) && want.get(at).equals(got.get(at))) {
            at++;
        }
        int first = at;
        assertTrue(
                at == want.size() && at == got.size(),
                () -> "seed " + seed + " streams " + s.streams() + " after " + s.after() + ": " + want.size()
                        + " expected, " + got.size() + " got, first difference at " + first + ": expected "
                        + (first < want.size() ? want.get(first) : "none") + ", got "
                        + (first < got.size() ? got.get(first) : "none") + "; gaps "
                        + s.client().gaps.size()
                        + ", ended " + s.client().ended);
    }
}
