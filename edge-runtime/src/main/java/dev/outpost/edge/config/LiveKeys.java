package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

import java.util.List;

/** Section {@code live}: live subscriptions (GET /v1/events/tail): how many, their buffers, their heartbeats. */
final class LiveKeys {
    static final ConfigSection SECTION = new ConfigSection("live");

    /** What a subscriber whose buffer is full gets: cut off, or skipped forward past what it missed. */
    static final List<String> OVERFLOWS = List.of("skip", "disconnect");

    static final ConfigKey<Integer> SUBSCRIBERS_MAX = SECTION.add(ConfigKey.integer(
            "live.subscribers_max",
            256,
            0,
            1_000_000,
            "subscribers",
            "Live subscribers held at once; each is also one of budget.connections. More get 503 with"
                    + " Retry-After."));
    static final ConfigKey<Integer> BUFFER_MESSAGES_MAX = SECTION.add(ConfigKey.integer(
            "live.buffer_messages_max",
            10_000,
            1,
            10_000_000,
            "messages",
            "Messages queued in memory for one subscriber that its connection has not taken yet; what does not fit"
                    + " waits in the log."));
    static final ConfigKey<Long> BUFFER_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "live.buffer_bytes_max",
            256 * KIB,
            4 * KIB,
            64 * MIB,
            "Bytes queued in memory for one subscriber that its connection has not taken yet; what does not fit"
                    + " waits in the log."));
    static final ConfigKey<Integer> LAG_EVENTS_MAX = SECTION.add(ConfigKey.integer(
            "live.lag_events_max",
            100_000,
            1,
            1_000_000_000,
            "events",
            "How far behind the newest event a subscriber may fall (it is then served from the log as its connection"
                    + " takes what it was sent); beyond, live.overflow applies."));
    static final ConfigKey<String> OVERFLOW = SECTION.add(ConfigKey.oneOf(
            "live.overflow",
            "skip",
            OVERFLOWS,
            "A subscriber more than live.lag_events_max behind: 'skip' moves it to the newest event and sends it a"
                    + " gap message naming the sequence numbers it missed (the stream goes on); 'disconnect' closes it"
                    + " with the reason."));
    static final ConfigKey<Integer> HEARTBEAT_MILLIS = SECTION.add(ConfigKey.integer(
            "live.heartbeat_millis",
            15_000,
            100,
            600_000,
            "milliseconds",
            "A subscriber sent nothing for this long gets a heartbeat (an SSE comment), so proxies and clients"
                    + " can tell a quiet stream from a dead connection."));

    static final ConfigKey<Long> BUSY_SEND_BYTES_PER_SECOND_MAX = SECTION.add(ConfigKey.bytes(
            "live.busy_send_bytes_per_second_max",
            32 * MIB,
            0,
            16 * 1024 * MIB,
            "While ingest is busy (over 50,000 events or 500 requests a second), the most bytes a second the live feed hands to"
                    + " its subscribers' connections, all together, so ingest keeps the CPU; what they miss waits in"
                    + " the log (live.lag_events_max, live.overflow apply). 0: no limit."));
    static final ConfigKey<Integer> BUSY_SEND_CPU_PERCENT_MAX = SECTION.add(ConfigKey.integer(
            "live.busy_send_cpu_percent_max",
            0,
            0,
            100,
            "percent",
            "While ingest is busy, the largest share of the CPU (all cores) that writing to subscribers' connections"
                    + " may take, as measured on the event loops; with live.busy_send_bytes_per_second_max, whichever"
                    + " is reached first holds the feed back (the same bytes cost a slower device more); set, writes"
                    + " that take over half of all cores while ingest arrives make ingest busy too. 0 (the default):"
                    + " no limit, bytes only."));

    private LiveKeys() {}

    static OutpostConfig.Live read(ConfigValues v) {
        return new OutpostConfig.Live(
                v.get(SUBSCRIBERS_MAX),
                v.get(BUFFER_MESSAGES_MAX),
                v.get(BUFFER_BYTES_MAX),
                v.get(LAG_EVENTS_MAX),
                v.get(OVERFLOW),
                v.get(HEARTBEAT_MILLIS),
                v.get(BUSY_SEND_BYTES_PER_SECOND_MAX),
                v.get(BUSY_SEND_CPU_PERCENT_MAX));
    }
}
