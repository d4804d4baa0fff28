package dev.outpost.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * A process that appends {@code groups} groups to a laned log (alternating the normal and high lanes), then stops
 * inside Chronicle's {@code writingDocument()} of the normal lane, as {@link GroupWriter} is while it copies a group:
 * the queue's write lock held by this process and an excerpt header marked incomplete, with the first bytes of the
 * next group behind it. It prints {@code IN-DOCUMENT <pid>} and waits to be SIGKILLed (see {@link KillMidAppendTest}).
 */
public final class KillMidAppendChild {
    private KillMidAppendChild() {}

    public static void main(String[] args) throws Exception {
        LogOptions o = KillMidAppendTest.options(Path.of(args[0]));
        int groups = Integer.parseInt(args[1]);
        LanedEventLog log = LanedEventLog.open(o, HybridClock.system());
        for (int i = 1; i <= groups; i++) {
            byte[] json = ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8);
            log.append(i % 2 == 0 ? Lane.HIGH : Lane.NORMAL, List.of(EventDraft.of("s", json)));
        }
        // A second queue on the lane's directory: the same files, lock and appender path as the log's own
        // GroupWriter, with a way to stop half-way through (the log never leaves a document open).
        SingleChronicleQueue q = SingleChronicleQueueBuilder.single(
                        o.directory().resolve(Lane.NORMAL.id()).toFile())
                .rollCycle(RollCycles.valueOf(o.rollCycle()))
                .blockSize(o.blockBytes())
                .build();
        ExcerptAppender a = q.createAppender();
        DocumentContext dc = a.writingDocument();
        byte[] partial = new byte[RecordCodec.GROUP_HEADER_BYTES + 16];
        RecordCodec.writeGroupHeader(partial, RecordCodec.GROUP_MAGIC, 3, groups + 1L, 0);
        dc.wire().bytes().write(partial); // part of a group: its header and the start of its first record
        System.out.println("IN-DOCUMENT " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE); // until SIGKILL, holding the write lock
    }
}
