package dev.outpost.edge.upstream;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.state.json.JsonTree;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.sync.Puller;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Applies the changes a node pulls from its hub: state documents (last writer wins by HLC), stream definitions (as
 * if declared over the API) and configuration (live keys only, all or nothing).
 *
 * <p>Invariant: applying a change twice leaves what applying it once left (the puller applies at least once): state
 * resolves by HLC, so a replayed change loses to itself; a stream definition or a setting is the same value again. A
 * change that cannot be applied throws; the puller counts it as failed and goes on.
 */
public final class PulledChanges implements Puller.Applier {
    private final StateService state;
    private final StreamRegistry streams;
    private final LiveConfig liveConfig;

    public PulledChanges(StateService state, StreamRegistry streams, LiveConfig liveConfig) {
        this.state = state;
        this.streams = streams;
        this.liveConfig = liveConfig;
    }

    /** Applies one pulled line, {@code {"seq":S,"hlc":H,"change":{...}}}, of {@code kind}. */
    @Override
    public void apply(String kind, String line, long hlc) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        if (!(JsonTree.parse(b, 0, b.length) instanceof Map<?, ?> pulled)
                || !(pulled.get("change") instanceof Map<?, ?> change)) {
            throw new IllegalArgumentException("a pulled line without a change object: " + line);
        }
        switch (kind) {
            case "stream" -> streams.put((String) change.get("name"), change.get("definition"));
            case "config" -> applyConfig(change, hlc, line);
            default -> applyState(change, hlc);
        }
    }

    private void applyConfig(Map<?, ?> change, long hlc, String line) {
        if (!(change.get("settings") instanceof Map<?, ?> settings)) {
            throw new IllegalArgumentException("a config change without settings: " + line);
        }
        Map<String, Object> typed = new LinkedHashMap<>();
        settings.forEach((k, v) -> typed.put(String.valueOf(k), v == JsonTree.NULL ? null : v));
        liveConfig.apply(typed, hlc, String.valueOf(change.get("origin")));
    }

    private void applyState(Map<?, ?> change, long hlc) {
        boolean delete = "delete".equals(change.get("op"));
        byte[] doc = delete ? new byte[0] : JsonTree.write(change.get("doc"));
        state.applyRemote((String) change.get("namespace"), (String) change.get("id"), delete, doc, hlc, (String)
                change.get("origin"));
    }
}
