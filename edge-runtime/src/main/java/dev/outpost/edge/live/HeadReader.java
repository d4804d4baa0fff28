package dev.outpost.edge.live;

import dev.outpost.store.EventFollower;
import dev.outpost.store.EventLog;

/**
 * Reads the live feed's rounds at the head of its log. The agent's own log is read with one {@link EventFollower} for
 * as long as the feed reads on from where it stopped: a seek and a fresh cursor per round were most of the feed's
 * reading with ingest busy. A hub's copy of a node's log, whose lease may close it between rounds, is read with a
 * cursor per round. Feed thread only.
 */
final class HeadReader {
    private final EventLog log;
    /** See {@link Round#clean}; {@link Long#MAX_VALUE}: not the agent's own log. */
    private final long cleanAfterSeq;

    private final int recordsMax;
    private final int bytesMax;
    private EventFollower follower;
    /** The seq the follower reads on from. */
    private long followerNext;

    HeadReader(EventLog log, long cleanAfterSeq, int recordsMax, int bytesMax) {
        this.log = log;
        this.cleanAfterSeq = cleanAfterSeq;
        this.recordsMax = recordsMax;
        this.bytesMax = bytesMax;
    }

    /** The round of the records in {@code [fromSeq, toSeq]}, bounded as {@link Round#read} bounds it. */
    Round read(long fromSeq, long toSeq) {
        if (cleanAfterSeq == Long.MAX_VALUE) {
            return Round.read(log, fromSeq, toSeq, recordsMax, bytesMax, cleanAfterSeq);
        }
        if (follower == null || followerNext != fromSeq) {
            close();
            follower = log.follow(fromSeq);
        }
        Round round = Round.follow(follower, fromSeq, toSeq, recordsMax, bytesMax, cleanAfterSeq);
        followerNext = round.lastExamined() + 1;
        return round;
    }

    /** Lets the follower go (the next read opens one again). */
    void close() {
        if (follower != null) {
            follower.close();
            follower = null;
        }
    }
}
