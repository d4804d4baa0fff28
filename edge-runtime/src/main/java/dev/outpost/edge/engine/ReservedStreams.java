package dev.outpost.edge.engine;

import dev.outpost.edge.engine.rollup.FinalWindow;
import dev.outpost.edge.ingest.IngestOutcome;
import dev.outpost.edge.ingest.IngestStage;
import dev.outpost.edge.ingest.ParsedEvent;
import java.util.List;

/** The streams only the engine writes: its alerts and the rollups' final windows. Clients get 422 for them. */
final class ReservedStreams {
    private ReservedStreams() {}

    /** The refusal of a batch that writes to a reserved stream (naming its line), or null. */
    static IngestOutcome.Rejection check(IngestStage.Batch batch, String alertStream) {
        List<ParsedEvent> events = batch.events();
        for (int i = 0; i < events.size(); i++) {
            if (FinalWindow.STREAM.equals(events.get(i).stream())) {
                return new IngestOutcome.Invalid(
                        IngestOutcome.Fault.RESERVED_STREAM,
                        batch.line(i),
                        "stream",
                        "stream '" + FinalWindow.STREAM + "' holds the rollups' final windows for the hub; clients"
                                + " may not write to it");
            }
            if (alertStream.equals(events.get(i).stream())) {
                return new IngestOutcome.Invalid(
                        IngestOutcome.Fault.RESERVED_STREAM,
                        batch.line(i),
                        "stream",
                        "stream '" + alertStream + "' holds the engine's alerts (engine.alert_stream); clients may"
                                + " not write to it");
            }
        }
        return null;
    }
}
