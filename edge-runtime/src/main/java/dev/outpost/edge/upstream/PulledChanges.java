package dev.outpost.edge.upstream;

import dev.outpost.edge.config.LiveConfig;
import dev.outpost.edge.engine.RuleBook;
import dev.outpost.edge.state.StateService;
import dev.outpost.edge.streams.StreamRegistry;
import dev.outpost.store.json.JsonTree;
import dev.outpost.sync.Puller;
import dev.outpost.sync.wire.FleetChange;

/**
 * Applies the changes a node pulls from its hub: state documents (last writer wins by HLC), stream definitions and
 * engine rules (as if set over the API) and configuration (live keys only, all or nothing).
 *
 * <p>Invariant: applying a change twice leaves what applying it once left (the puller applies at least once): state
 * resolves by HLC, so a replayed change loses to itself; a stream definition or a setting is the same value again. A
 * change that cannot be applied throws; the puller counts it as failed and goes on.
 */
public final class PulledChanges implements Puller.Applier {
    private final StateService state;
    private final StreamRegistry streams;
    private final LiveConfig liveConfig;
    private final RuleBook rules;

    public PulledChanges(StateService state, StreamRegistry streams, LiveConfig liveConfig, RuleBook rules) {
        this.state = state;
        this.streams = streams;
        this.liveConfig = liveConfig;
        this.rules = rules;
    }

    /** Applies one pulled change (state by last writer wins; streams as declared; live configuration). */
    @Override
    public void apply(FleetChange change, long hlc) {
        switch (change) {
            case FleetChange.StreamChange c -> streams.put(c.name(), c.definition());
            case FleetChange.ConfigChange c -> liveConfig.apply(c.settings(), hlc, c.origin());
            case FleetChange.RuleChange c -> {
                if (c.delete()) {
                    rules.delete(c.name());
                } else {
                    rules.put(c.name(), c.definition(), RuleBook.FROM_HUB);
                }
            }
            case FleetChange.StateChange c -> {
                byte[] doc = c.delete() ? new byte[0] : JsonTree.write(c.doc());
                state.applyRemote(c.namespace(), c.id(), c.delete(), doc, hlc, c.origin());
            }
            case FleetChange.Unreadable u -> throw new IllegalArgumentException("an unreadable change: " + u.problem());
        }
    }
}
