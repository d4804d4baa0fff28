package dev.outpost.edge.sync;

import dev.outpost.edge.Main;
import dev.outpost.edge.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A hub and its edges started in this JVM on loopback, each from YAML written into a test's directory: the fleet the
 * sync and fleet tests share (a 16 GiB memory budget each, since the governor measures the whole test JVM; edges
 * retry fast). Closes them in reverse order of starting.
 */
public final class TestFleet implements AutoCloseable {
    public static final String TOKEN_1 = "edge-one-token-0123456789";
    public static final String TOKEN_2 = "edge-two-token-0123456789";

    private final Path dir;
    private final List<Main.RunningAgent> agents = new ArrayList<>();

    public TestFleet(Path dir) {
        this.dir = dir;
    }

    /** The hub "hq", knowing edge-1 and edge-2; {@code moreHub}: further keys of its hub section, each line indented by two. */
    public Main.RunningAgent hub(String moreHub) throws Exception {
        return hub(moreHub, "16GiB");
    }

    /** The hub with budget.memory {@code memory} (e.g. {@code 256MiB}). */
    public Main.RunningAgent hub(String moreHub, String memory) throws Exception {
        return start("hub", """
                node:
                  id: hq
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: %s
                hub:
                %s  nodes:
                    edge-1: %s
                    edge-2: %s
                """.formatted(dir.resolve("hub-data"), memory, moreHub, TOKEN_1, TOKEN_2), true);
    }

    /** An edge pushing to the hub on {@code hubPort}; {@code more}: further top-level YAML (streams, rollups, ...). */
    public Main.RunningAgent edge(String id, String token, int hubPort, String more) throws Exception {
        return start(id, """
                node:
                  id: %s
                data:
                  dir: %s
                http:
                  port: 0
                budget:
                  memory: 16GiB
                sync:
                  upstream: http://127.0.0.1:%d
                  token: %s
                  backoff_base_millis: 20
                  backoff_cap_millis: 200
                  idle_poll_millis: 50
                """.formatted(id, dir.resolve(id + "-data"), hubPort, token) + more, false);
    }

    /** Starts an agent (as a hub when {@code hub}) from {@code yaml}, written to {@code name}.yaml. */
    public Main.RunningAgent start(String name, String yaml, boolean hub) throws Exception {
        Path cfg = dir.resolve(name + ".yaml");
        Files.writeString(cfg, yaml);
        Main.RunningAgent a = Main.start(hub ? ConfigLoader.load(cfg).asHub() : ConfigLoader.load(cfg));
        agents.add(a);
        return a;
    }

    @Override
    public void close() {
        agents.reversed().forEach(Main.RunningAgent::close);
    }
}
