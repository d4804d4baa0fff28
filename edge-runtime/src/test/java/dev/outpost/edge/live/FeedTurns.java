package dev.outpost.edge.live;

/** Drives a feed turn by turn from tests outside this package: no feed thread, so every run is the same. */
public final class FeedTurns {
    private FeedTurns() {}

    /** One turn of the feed's work; true if it did any. */
    public static boolean turn(LiveFeed feed) {
        return feed.turn();
    }
}
