package dev.outpost.store;

/**
 * An event log kept as one log per {@link Lane}: what sync (push, backlog counts, the hub's node
 * logs) needs, without the storage engine behind it.
 *
 * <p>Invariants (as {@link LanedEventLog} keeps them): one sequence for all lanes, so sequence
 * numbers are unique across the whole log; {@link #lastSeq()} is a watermark below which every
 * record is readable in its lane; a lane's own log holds only that lane's records, in sequence
 * order with gaps where other lanes' records are.
 */
public interface LanedLog extends EventLog {
    /**
     * One lane's own log: its {@link EventLog#firstSeq()}, {@link EventLog#lastSeq()} and cursors
     * cover that lane's records only. Appends go through {@link EventLog#append(Lane, java.util.List)}
     * on this log, which keeps the shared sequence.
     */
    EventLog lane(Lane lane);
}
