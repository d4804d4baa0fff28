package dev.outpost.edge;

import dev.outpost.compress.NativeCodecs;
import dev.outpost.edge.metrics.Metrics;
import dev.outpost.edge.state.StateService;
import dev.outpost.store.ChronicleStateStore;
import dev.outpost.store.LanedEventLog;
import dev.outpost.store.LogCounters;

/**
 * The stores' metrics, registered where the stores are opened: the store module knows nothing of {@link Metrics}, so
 * the agent registers the log's and the state store's counters for it, with the native codecs' status and uptime.
 */
final class StoreMetrics {
    private StoreMetrics() {}

    static void register(
            Metrics metrics,
            LanedEventLog log,
            ChronicleStateStore stateStore,
            StateService state,
            NativeCodecs.Status natives,
            long startedAtMillis) {
        LogCounters lc = log.counters();
        metrics.gauge("outpost_log_last_seq", "Highest sequence number in the event log.", log::lastSeq);
        metrics.gauge("outpost_log_first_seq", "Lowest sequence number still in the event log.", log::firstSeq);
        metrics.counterFn(
                "outpost_log_appended_bytes_total", "Bytes appended to the event log.", lc.appendedBytes::sum);
        metrics.counterFn(
                "outpost_log_uncompressed_bytes_total",
                "Bytes the appended groups would take uncompressed (ratio = this / appended bytes).",
                lc.uncompressedBytes::sum);
        metrics.counterFn(
                "outpost_log_fsyncs_total", "fsync calls by group commit (durability fsync).", lc.fsyncs::sum);
        metrics.counterFn(
                "outpost_log_fsynced_appends_total",
                "Appends (requests) made durable by group commit's fsyncs; per fsync = this / outpost_log_fsyncs_total.",
                lc.fsyncedAppends::sum);
        metrics.counterFn(
                "outpost_log_corrupt_skipped_total", "Corrupt records skipped by readers.", lc.corruptSkipped::sum);
        metrics.counterFn(
                "outpost_log_quarantined_total", "Corrupt log groups quarantined at startup.", lc.quarantined::sum);
        metrics.gauge("outpost_state_documents", "State documents held (tombstones included).", stateStore::size);
        metrics.gauge(
                "outpost_state_documents_max", "Most state documents (state.documents_max).", stateStore::capacity);
        metrics.gauge(
                "outpost_state_file_bytes",
                "Bytes of the state file (grows in steps up to state.documents_max).",
                stateStore::fileBytes);
        state.registerMetrics(metrics);
        metrics.gauge(
                "outpost_native_zstd_loaded", "1 if zstd's native library is loaded.", () -> natives.zstd() ? 1 : 0);
        metrics.gauge(
                "outpost_native_lz4_loaded",
                "1 if LZ4 runs natively (0: pure Java).",
                () -> natives.lz4Native() ? 1 : 0);
        metrics.gauge(
                "outpost_uptime_seconds",
                "Seconds since the agent started.",
                () -> (System.currentTimeMillis() - startedAtMillis) / 1000);
    }
}
