package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.context.env.PropertySourceLoader;
import io.micronaut.core.convert.TypeConverterRegistrar;
import io.micronaut.core.io.service.MicronautMetaServiceLoaderUtils;
import io.micronaut.core.io.service.ServiceDefinition;
import io.micronaut.core.io.service.SoftServiceLoader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service index lists what Micronaut's own scan of the same class path finds, and an agent given it reads its
 * services from it (not from the jars).
 */
class ServiceIndexTest {
    private static final String BEAN_DEFINITIONS = "io.micronaut.inject.BeanDefinitionReference";
    private static final String STREAMS_CONTROLLER = "dev.outpost.edge.http.$StreamsController$Definition";

    @TempDir
    Path dir;

    @Test
    void theIndexListsWhatMicronautsScanFinds() throws Exception {
        ServiceIndex.Listing listing = ServiceIndex.list(ServiceIndex.classPath());
        ClassLoader loader = ServiceIndexTest.class.getClassLoader();
        Map<String, Set<String>> scanned = MicronautMetaServiceLoaderUtils.findAllMicronautMetaServices(loader);
        assertTrue(scanned.get(BEAN_DEFINITIONS).size() > 200, "bean definitions scanned: " + scanned.keySet());
        for (Map.Entry<String, Set<String>> type : scanned.entrySet()) {
            assertEquals(new TreeSet<>(type.getValue()), listed(listing, type.getKey()), type.getKey());
        }
        // META-INF/services types, as SoftServiceLoader finds them (this JVM has no index: it scans)
        for (Class<?> type : List.of(TypeConverterRegistrar.class, PropertySourceLoader.class)) {
            Set<String> found = new TreeSet<>();
            for (ServiceDefinition<?> d : SoftServiceLoader.load(type, loader)) {
                found.add(d.getName());
            }
            assertFalse(found.isEmpty(), type.getName());
            assertEquals(found, listed(listing, type.getName()), type.getName());
        }
    }

    @Test
    void anIndexReadsBackAndIsUsedOnlyOnTheJarsItWasMadeFrom() throws Exception {
        ServiceIndex.Listing listing = ServiceIndex.list(ServiceIndex.classPath());
        Path file = dir.resolve("service.index");
        ServiceIndex.write(listing, file);
        ServiceIndex.Listing read = ServiceIndex.read(file);
        assertEquals(listing.providers(), read.providers());
        assertEquals(listing.jars(), read.jars());
        assertTrue(ServiceIndex.madeFromThisClassPath(read));

        Map<String, Long> otherSize = new LinkedHashMap<>(read.jars());
        otherSize.replaceAll((name, size) -> name.contains("micronaut-core") ? size + 1 : size);
        assertFalse(ServiceIndex.madeFromThisClassPath(new ServiceIndex.Listing(otherSize, read.providers())));
        Map<String, Long> oneLess = new LinkedHashMap<>(read.jars());
        oneLess.remove(oneLess.keySet().stream()
                .filter(n -> n.contains("micronaut-core"))
                .findFirst()
                .orElseThrow());
        assertFalse(ServiceIndex.madeFromThisClassPath(new ServiceIndex.Listing(oneLess, read.providers())));

        Files.writeString(file, "something else\n");
        assertThrows(IOException.class, () -> ServiceIndex.read(file));
    }

    /**
     * A child agent given the index serves its API; given one without a controller's bean definition, it does not
     * serve that controller's routes: the index, not the jars, is what Micronaut read.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void anAgentReadsItsServicesFromTheIndex() throws Exception {
        ServiceIndex.Listing listing = ServiceIndex.list(ServiceIndex.classPath());
        Path whole = dir.resolve("whole.index");
        ServiceIndex.write(listing, whole);
        Map<String, List<String>> fewer = new LinkedHashMap<>(listing.providers());
        fewer.put(
                BEAN_DEFINITIONS,
                fewer.get(BEAN_DEFINITIONS).stream()
                        .filter(n -> !n.equals(STREAMS_CONTROLLER))
                        .toList());
        assertEquals(
                listing.providers().get(BEAN_DEFINITIONS).size() - 1,
                fewer.get(BEAN_DEFINITIONS).size());
        Path withoutStreams = dir.resolve("without-streams.index");
        ServiceIndex.write(new ServiceIndex.Listing(listing.jars(), fewer), withoutStreams);

        assertEquals(200, streamsStatus(whole, "a"));
        assertEquals(404, streamsStatus(withoutStreams, "b"));
    }

    private int streamsStatus(Path index, String name) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Path config = home.resolve("outpost.yaml");
        Files.writeString(config, "data:\n  dir: " + home.resolve("data") + "\nhttp:\n  port: 0\n");
        ProcessBuilder pb = AgentProcess.command(config, home);
        pb.command().add(1, "-D" + ServiceIndex.PROPERTY + "=" + index);
        try (AgentProcess agent = AgentProcess.start(pb);
                HttpClient http = HttpClient.newHttpClient()) {
            assertFalse(agent.log().contains("service index"), agent.log());
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port + "/v1/streams"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode();
        }
    }

    private static Set<String> listed(ServiceIndex.Listing listing, String type) {
        return new TreeSet<>(listing.providers().getOrDefault(type, List.of()));
    }
}
