package dev.outpost.edge.http;

import dev.outpost.edge.Agent;
import dev.outpost.edge.hub.FleetLogs;
import dev.outpost.edge.ingest.EventParser;
import dev.outpost.store.AckedRanges;
import dev.outpost.store.Lane;
import dev.outpost.store.LanedEventLog;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.QueryValue;

/**
 * Fleet queries on a hub: what each node pushed, by node, stream and time. Same paging and
 * output as GET /v1/events (sequence numbers are the hub's; each event is as the node stored it).
 */
@Controller("/v1/fleet")
public class FleetController {
    private final Agent agent;

    public FleetController(Agent agent) {
        this.agent = agent;
    }

    private HttpResponse<?> notHub() {
        return Problems.response(
                404, "Not a hub", "this agent is not in hub mode (run 'outpost hub' or set hub.enabled)", 0, null);
    }

    /** The nodes this hub accepts, and what it has received from each, per lane. */
    @Get(value = "/nodes", produces = MediaType.APPLICATION_JSON)
    public HttpResponse<?> nodes() {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        StringBuilder b = new StringBuilder("{\"nodes\":[");
        boolean first = true;
        for (String node : agent.config().hub().nodes().keySet()) {
            b.append(first ? "" : ",").append("{\"node\":");
            Json.quote(b, node);
            boolean seen = agent.fleetLogs().exists(node);
            b.append(",\"seen\":").append(seen);
            if (seen) {
                b.append(",\"lanes\":{");
                boolean firstLane = true;
                for (Lane lane : Lane.values()) {
                    AckedRanges r = agent.hubReceiver().received(node, lane);
                    b.append(firstLane ? "" : ",")
                            .append('"')
                            .append(lane.id())
                            .append("\":{\"received_ranges\":")
                            .append(r.rangeCount())
                            .append(",\"received_records_upper_bound\":")
                            .append(r.acknowledgedCount())
                            .append(",\"next_expected_seq\":")
                            .append(r.firstGap(1))
                            .append('}');
                    firstLane = false;
                }
                b.append('}');
            }
            b.append('}');
            first = false;
        }
        return HttpResponse.ok(b.append("]}").toString()).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /** GET /v1/fleet/events?node=N plus the parameters of GET /v1/events. */
    @Get(value = "/events", produces = EventsController.NDJSON)
    public HttpResponse<?> events(
            @Nullable @QueryValue String node,
            @Nullable @QueryValue String stream,
            @Nullable @QueryValue("from_seq") String fromSeq,
            @Nullable @QueryValue("from_time") String fromTime,
            @Nullable @QueryValue("to_time") String toTime,
            @Nullable @QueryValue String limit,
            @Nullable @QueryValue String cursor) {
        if (!agent.config().hub().enabled()) {
            return notHub();
        }
        if (node == null
                || !EventParser.validName(node)
                || !agent.config().hub().nodes().containsKey(node)) {
            return Problems.response(400, "Invalid query", "node must name one of the nodes in hub.nodes", 0, "node");
        }
        if (!agent.fleetLogs().exists(node)) {
            return Problems.response(404, "No data", "node '" + node + "' has not pushed anything yet", 0, "node");
        }
        FleetLogs.Lease lease = agent.fleetLogs().lease(node);
        try {
            LanedEventLog log = lease.log();
            HttpResponse<?> r =
                    EventsController.page(agent, log, lease::close, stream, fromSeq, fromTime, toTime, limit, cursor);
            if (r.getBody()
                    .filter(b -> b instanceof io.micronaut.http.server.types.files.StreamedFile)
                    .isEmpty()) {
                lease.close(); // an error answer: no page holds the log
            }
            return r;
        } catch (RuntimeException e) {
            lease.close();
            throw e;
        }
    }
}
