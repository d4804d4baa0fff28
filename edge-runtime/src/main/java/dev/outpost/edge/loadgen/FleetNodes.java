package dev.outpost.edge.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The simulated nodes' identities: ids and tokens as a hub's {@code hub.nodes} holds them, generated from a seed
 * (and printed as the YAML fragment a hub's configuration takes) or read from a hub's YAML.
 */
final class FleetNodes {
    /** One node's id and token. */
    record Identity(String id, String token) {}

    private FleetNodes() {}

    /** {@code count} nodes {@code fleet-00000 ..}, each with a token drawn from {@code seed}. */
    static List<Identity> generate(int count, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Identity> out = new ArrayList<>(count);
        int digits = Math.max(5, Integer.toString(count - 1).length());
        for (int i = 0; i < count; i++) {
            String id = "fleet-" + String.format(Locale.ROOT, "%0" + digits + "d", i);
            String token = "tok-" + Long.toHexString(rnd.nextLong() | Long.MIN_VALUE)
                    + Long.toHexString(rnd.nextLong() | Long.MIN_VALUE);
            out.add(new Identity(id, token));
        }
        return out;
    }

    /**
     * Prints {@code nodes} as the {@code nodes:} key of a hub section, indented by two spaces: append it to a YAML
     * file whose last top-level key is {@code hub:}.
     */
    static void printHubNodes(List<Identity> nodes, PrintStream out) {
        StringBuilder sb = new StringBuilder(nodes.size() * 48).append("  nodes:\n");
        for (Identity n : nodes) {
            sb.append("    ").append(n.id()).append(": ").append(n.token()).append('\n');
        }
        out.print(sb);
        out.flush();
    }

    /**
     * The first {@code count} nodes of a hub's YAML (a whole configuration with {@code hub.nodes}, or a fragment whose
     * top-level key is {@code nodes}), in the file's order.
     */
    static List<Identity> read(Path file, int count) {
        Object root;
        LoaderOptions lo = new LoaderOptions();
        lo.setCodePointLimit(256 << 20);
        try (Reader r = Files.newBufferedReader(file)) {
            root = new Yaml(new SafeConstructor(lo)).load(r);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("--nodes-file " + file + ": " + e.getMessage());
        }
        Object nodes = root instanceof Map<?, ?> m
                ? m.get("hub") instanceof Map<?, ?> hub ? hub.get("nodes") : m.get("nodes")
                : null;
        if (!(nodes instanceof Map<?, ?> map) || map.isEmpty()) {
            throw new IllegalArgumentException("--nodes-file " + file + " has no hub.nodes (or nodes) mapping");
        }
        List<Identity> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (out.size() == count) {
                break;
            }
            out.add(new Identity(String.valueOf(e.getKey()), String.valueOf(e.getValue())));
        }
        if (out.size() < count) {
            throw new IllegalArgumentException(
                    "--nodes-file " + file + " names " + out.size() + " nodes; --nodes asks for " + count);
        }
        return out;
    }
}
