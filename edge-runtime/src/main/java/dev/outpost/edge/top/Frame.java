package dev.outpost.edge.top;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One screen of {@code outpost top}, from two samples of the agent (rates are their difference). */
final class Frame {
    private final String url;
    private final StatusScreen.Sample before;
    private final StatusScreen.Sample now;
    private final StringBuilder sb = new StringBuilder(2048);

    Frame(String url, StatusScreen.Sample before, StatusScreen.Sample now) {
        this.url = url;
        this.before = before;
        this.now = now;
    }

    String text() {
        Map<?, ?> g = now.governor();
        Map<?, ?> sync = now.sync();
        line(
                "outpost top  %s   level %s   link %s%s",
                url,
                g.get("level"),
                sync.get("link"),
                sync.get("reason") == null ? "" : " (" + sync.get("reason") + ")");
        sb.append('\n');
        pressure((Map<?, ?>) g.get("dimensions"));
        rates();
        lanes((Map<?, ?>) sync.get("lanes"));
        risk((Map<?, ?>) g.get("data_at_risk"));
        actions((List<?>) g.get("recent_actions"));
        return sb.toString();
    }

    private void pressure(Map<?, ?> dimensions) {
        sb.append("pressure ");
        if (dimensions != null) {
            for (Map.Entry<?, ?> d : dimensions.entrySet()) {
                Object p = ((Map<?, ?>) d.getValue()).get("pressure");
                sb.append(String.format(Locale.ROOT, "  %s %.2f", d.getKey(), ((Number) p).doubleValue()));
            }
        }
        sb.append('\n');
    }

    private void rates() {
        line(
                "rates      ingest %s ev/s   sync %s records/s   engine %s ev/s (lag %s)   live %s msg/s",
                rate("outpost_ingest_events_total"),
                rate("outpost_sync_records_total"),
                rate("outpost_engine_events_total"),
                StatusScreen.number(value("outpost_engine_lag_events")),
                rate("outpost_live_messages_total"));
        line(
                "           alerts %s   quarantined %s   dropped unsynced %s",
                StatusScreen.number(value("outpost_alerts_total")),
                StatusScreen.number(value("outpost_log_quarantined_total")),
                StatusScreen.number(value("outpost_retention_unsynced_events_dropped_total")));
        sb.append('\n');
    }

    private void lanes(Map<?, ?> lanes) {
        line("%-10s %14s %14s %12s", "lane", "backlog", "bytes", "oldest");
        for (String lane : StatusScreen.lanes()) {
            Map<?, ?> l = lanes == null ? null : (Map<?, ?>) lanes.get(lane);
            if (l != null) {
                line(
                        "%-10s %14s %14s %11ss",
                        lane,
                        StatusScreen.number(num(l, "backlog_records")),
                        StatusScreen.number(num(l, "backlog_bytes")),
                        StatusScreen.number(num(l, "oldest_age_seconds")));
            }
        }
        sb.append('\n');
    }

    private void risk(Map<?, ?> risk) {
        if (risk != null) {
            line(
                    "data at risk  %s events, %s bytes, oldest %s s%s",
                    StatusScreen.number(num(risk, "events")),
                    StatusScreen.number(num(risk, "bytes")),
                    StatusScreen.number(num(risk, "oldest_age_seconds")),
                    risk.get("reason") == null ? "" : " — " + risk.get("reason"));
        }
    }

    private void actions(List<?> recent) {
        sb.append("recent governor actions: ");
        if (recent == null || recent.isEmpty()) {
            sb.append("none\n");
            return;
        }
        sb.append('\n');
        for (Object a : recent.subList(Math.max(0, recent.size() - 5), recent.size())) {
            sb.append("  ").append(a).append('\n');
        }
    }

    private String rate(String counter) {
        Double a = before.metrics().get(counter);
        Double b = now.metrics().get(counter);
        double seconds = (now.nanos() - before.nanos()) / 1e9;
        if (a == null || b == null || seconds <= 0) {
            return "-";
        }
        return StatusScreen.number(Math.max(0, b - a) / seconds);
    }

    private double value(String metric) {
        Double v = now.metrics().get(metric);
        return v == null ? 0 : v;
    }

    private static double num(Map<?, ?> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : 0;
    }

    private void line(String format, Object... args) {
        sb.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
