package dev.outpost.sync.wire;

/** Paths, headers and media types of the sync protocol, shared by the edge's client and the hub's endpoints. */
public final class SyncProtocol {
    private SyncProtocol() {}

    /** Header naming the node (its token goes in {@code Authorization: Bearer}). */
    public static final String NODE_HEADER = "X-Outpost-Node";

    /**
     * Headers of a push: what the node has not yet sent besides this batch (records, payload bytes), shown in the
     * hub's fleet table. Optional: a hub ignores them when absent or malformed.
     */
    public static final String BACKLOG_RECORDS_HEADER = "X-Outpost-Backlog-Records";

    public static final String BACKLOG_BYTES_HEADER = "X-Outpost-Backlog-Bytes";

    /** POST: one {@link PushBatch}; answered by a {@link PushAck}. */
    public static final String PUSH_PATH = "/v1/sync/push";

    /** GET {@code ?lane=L}: what the hub holds of the node's lane, as encoded acknowledged ranges. */
    public static final String CURSOR_PATH = "/v1/sync/cursor";

    /** GET {@code ?after=S&wait_millis=W}: a long poll answered by a {@link PullPage}. */
    public static final String PULL_PATH = "/v1/sync/pull";

    /** PUT {@code <hex id>?stream=S}: a wire dictionary; answered by a {@link DictionaryStored}. */
    public static final String DICTIONARIES_PATH = "/v1/sync/dictionaries/";

    /** Content type of a push body. */
    public static final String PUSH_CONTENT_TYPE = "application/vnd.outpost.push-batch";

    /** Content type of a pull answer: newline-delimited JSON. */
    public static final String NDJSON = "application/x-ndjson";
}
