package dev.outpost.edge;

import dev.outpost.store.LogFields;
import io.micronaut.core.io.service.SoftServiceLoader;
import io.micronaut.core.optim.StaticOptimizations;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.slf4j.LoggerFactory;

/**
 * The Micronaut services of a class path, listed once by the distribution's build ({@code outpost service-index
 * FILE}) and handed to Micronaut at start instead of its scan of every jar.
 *
 * <p>Design note. Micronaut finds its bean definitions and other services by opening each jar of the class path that
 * has a {@code META-INF/micronaut} directory as a zip file system and walking it, and by looking up {@code
 * META-INF/services/TYPE} in each of the ~75 jars for every service type it asks for: 40–70 ms of one core at every
 * start on a small device (docs/BENCHMARKS.md), for an answer fixed when the distribution was built. The build writes
 * the answer down; the start gives it to Micronaut through its own hook for precomputed services ({@link
 * StaticOptimizations} with {@link SoftServiceLoader.Optimizations}, what Micronaut AOT generates code for).
 * Invariants: the index lists every provider the scan finds on the same class path, so a type it does not name has
 * none (ServiceIndexTest compares the two); it names the jars it was made from (file name and size) and is used only
 * if the class path is the same; a provider whose class does not load is left out, as the scan leaves it out; no
 * index, another class path, or an index offered after Micronaut has looked leaves Micronaut to scan as before —
 * slower, never different.
 */
final class ServiceIndex {
    /** The system property naming the index file (the launcher sets it when the distribution has one). */
    static final String PROPERTY = "outpost.service.index";

    private static final String HEADER = "# outpost service index 1";
    private static final String MICRONAUT_DIR = "META-INF/micronaut/";
    private static final String SERVICES_DIR = "META-INF/services/";
    private static final MethodType NO_ARGUMENTS = MethodType.methodType(void.class);

    /** What an index holds: the class path's jars (name → size) and each service type's providers, in order. */
    record Listing(Map<String, Long> jars, Map<String, List<String>> providers) {}

    private ServiceIndex() {}

    /** The class path of this JVM as its class loader reads it: each entry, then the jars its manifest names. */
    static List<Path> classPath() throws IOException {
        Set<Path> seen = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                add(Path.of(entry).toAbsolutePath().normalize(), seen);
            }
        }
        return List.copyOf(seen);
    }

    private static void add(Path entry, Set<Path> seen) throws IOException {
        if (!Files.exists(entry) || !seen.add(entry) || !Files.isRegularFile(entry)) {
            return; // a missing entry is skipped, as the class loader skips it
        }
        String manifestPath;
        try (JarFile jar = new JarFile(entry.toFile())) {
            var manifest = jar.getManifest();
            manifestPath =
                    manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
        }
        if (manifestPath != null) {
            for (String relative : manifestPath.trim().split("\\s+")) {
                URI resolved = entry.toUri().resolve(relative);
                if ("file".equals(resolved.getScheme())) {
                    add(Path.of(resolved).normalize(), seen);
                }
            }
        }
    }

    /**
     * Lists the services of {@code classPath}: what Micronaut's scan would find there; its jars are named relative to
     * the directory of the first entry.
     */
    static Listing list(List<Path> classPath) throws IOException {
        Path base = classPath.getFirst().getParent();
        Map<String, Long> jars = new LinkedHashMap<>();
        Map<String, Set<String>> providers = new LinkedHashMap<>();
        for (Path entry : classPath) {
            if (Files.isDirectory(entry)) {
                listDirectory(entry, providers);
            } else {
                jars.put(base.relativize(entry).toString(), Files.size(entry));
                listJar(entry, providers);
            }
        }
        Map<String, List<String>> ordered = new LinkedHashMap<>();
        providers.forEach((type, names) -> ordered.put(type, List.copyOf(names)));
        return new Listing(jars, ordered);
    }

    private static void listJar(Path jar, Map<String, Set<String>> providers) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> e = file.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                String name = entry.getName();
                if (entry.isDirectory()) {
                    continue;
                }
                if (name.startsWith(MICRONAUT_DIR)) {
                    String[] typeAndName =
                            name.substring(MICRONAUT_DIR.length()).split("/");
                    if (typeAndName.length == 2) {
                        provider(providers, typeAndName[0], typeAndName[1]);
                    }
                } else if (name.startsWith(SERVICES_DIR) && name.indexOf('/', SERVICES_DIR.length()) < 0) {
                    try (InputStream in = file.getInputStream(entry)) {
                        services(in, name.substring(SERVICES_DIR.length()), providers);
                    }
                }
            }
        }
    }

    private static void listDirectory(Path dir, Map<String, Set<String>> providers) throws IOException {
        Path micronaut = dir.resolve(MICRONAUT_DIR);
        if (Files.isDirectory(micronaut)) {
            try (Stream<Path> types = Files.list(micronaut)) {
                for (Path type : types.filter(Files::isDirectory).sorted().toList()) {
                    try (Stream<Path> names = Files.list(type)) {
                        for (Path name :
                                names.filter(Files::isRegularFile).sorted().toList()) {
                            provider(
                                    providers,
                                    type.getFileName().toString(),
                                    name.getFileName().toString());
                        }
                    }
                }
            }
        }
        Path services = dir.resolve(SERVICES_DIR);
        if (Files.isDirectory(services)) {
            try (Stream<Path> files = Files.list(services)) {
                for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                    try (InputStream in = Files.newInputStream(file)) {
                        services(in, file.getFileName().toString(), providers);
                    }
                }
            }
        }
    }

    /** A {@code META-INF/services} file: one class name a line, {@code #} starts a comment (java.util.ServiceLoader). */
    private static void services(InputStream in, String type, Map<String, Set<String>> providers) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line; (line = r.readLine()) != null; ) {
            int comment = line.indexOf('#');
            String name = (comment < 0 ? line : line.substring(0, comment)).trim();
            if (!name.isEmpty()) {
                provider(providers, type, name);
            }
        }
    }

    private static void provider(Map<String, Set<String>> providers, String type, String name) {
        providers.computeIfAbsent(type, t -> new LinkedHashSet<>()).add(name);
    }

    /** Writes {@code listing} to {@code file}. */
    static void write(Listing listing, Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(HEADER);
        listing.jars().forEach((name, size) -> lines.add("jar " + name + " " + size));
        listing.providers().forEach((type, names) -> names.forEach(n -> lines.add("service " + type + " " + n)));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads an index written by {@link #write}; a file in another format is an IOException naming the line. */
    static Listing read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
            throw new IOException(file + ": not a service index (first line: " + HEADER + ")");
        }
        Map<String, Long> jars = new LinkedHashMap<>();
        Map<String, List<String>> providers = new LinkedHashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(" ");
            if (f.length == 3 && f[0].equals("jar")) {
                jars.put(f[1], Long.parseLong(f[2]));
            } else if (f.length == 3 && f[0].equals("service")) {
                providers.computeIfAbsent(f[1], t -> new ArrayList<>()).add(f[2]);
            } else {
                throw new IOException(file + " line " + (i + 1) + ": expected 'jar NAME SIZE' or 'service TYPE NAME'");
            }
        }
        return new Listing(jars, providers);
    }

    /** Hands the index the launcher names ({@link #PROPERTY}) to Micronaut; says so if it cannot be used. */
    static void useIfGiven() {
        String file = System.getProperty(PROPERTY);
        if (file == null) {
            return;
        }
        String refused;
        try {
            refused = install(Path.of(file), ServiceIndex.class.getClassLoader());
        } catch (IOException | RuntimeException e) {
            refused = e.getMessage();
        }
        if (refused != null) {
            LoggerFactory.getLogger(ServiceIndex.class)
                    .atWarn()
                    .addKeyValue(
                            LogFields.ADVICE, "reinstall the distribution: its app directory changed after its build")
                    .log("service index {} not used ({}): Micronaut scans the jars, a slower start", file, refused);
        }
    }

    /** Writes the index of this JVM's class path to the file named in {@code args} ({@code outpost service-index}). */
    static int writeCommand(String[] args, java.io.PrintStream err) {
        if (args.length != 1 || args[0].startsWith("-")) {
            err.println("usage: outpost service-index FILE");
            return Main.EXIT_USAGE;
        }
        try {
            write(list(classPath()), Path.of(args[0]));
            return 0;
        } catch (IOException e) {
            err.println("outpost service-index: " + e.getMessage());
            return Main.EXIT_START_FAILED;
        }
    }

    /**
     * Hands the index at {@code file} to Micronaut if it was made from this class path and Micronaut has not looked
     * for services yet; returns why not otherwise (null when installed).
     */
    static String install(Path file, ClassLoader loader) throws IOException {
        Listing listing = read(file);
        if (!madeFromThisClassPath(listing)) {
            return "it was made from other jars than this class path's";
        }
        try {
            StaticOptimizations.set(new SoftServiceLoader.Optimizations(new Loaders(listing.providers(), loader)));
            return null;
        } catch (IllegalStateException e) { // Micronaut has already looked (another context in this JVM)
            return "Micronaut has already looked for its services";
        }
    }

    /**
     * Whether the jars {@code listing} was made from are this JVM's (by name and size; the class path's own entries
     * all among them): a check that stats files rather than opening ~75 jars again.
     */
    static boolean madeFromThisClassPath(Listing listing) {
        String[] entries = System.getProperty("java.class.path").split(File.pathSeparator);
        Path base = Path.of(entries[0]).toAbsolutePath().normalize().getParent();
        for (String entry : entries) {
            Path path = Path.of(entry).toAbsolutePath().normalize();
            if (Files.isRegularFile(path)
                    && !listing.jars().containsKey(base.relativize(path).toString())) {
                return false;
            }
        }
        for (Map.Entry<String, Long> jar : listing.jars().entrySet()) {
            try {
                if (Files.size(base.resolve(jar.getKey())) != jar.getValue()) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /** Every service type has a loader: the providers listed, or none (the index is the whole class path's). */
    private static final class Loaders extends AbstractMap<String, SoftServiceLoader.StaticServiceLoader<?>> {
        private final Map<String, List<String>> providers;
        private final ClassLoader loader;

        Loaders(Map<String, List<String>> providers, ClassLoader loader) {
            this.providers = providers;
            this.loader = loader;
        }

        @Override
        public SoftServiceLoader.StaticServiceLoader<?> get(Object type) {
            return new Listed<>(providers.getOrDefault(type, List.of()), loader);
        }

        @Override
        public boolean containsKey(Object type) {
            return type instanceof String;
        }

        @Override
        public Set<Entry<String, SoftServiceLoader.StaticServiceLoader<?>>> entrySet() {
            Map<String, SoftServiceLoader.StaticServiceLoader<?>> listed = new LinkedHashMap<>();
            providers.forEach((type, names) -> listed.put(type, new Listed<>(names, loader)));
            return listed.entrySet();
        }
    }

    /**
     * One type's providers, created as Micronaut's scan creates them (public no-argument constructor; one whose class
     * or constructor is missing is left out, any other failure thrown) when they are looked for.
     */
    private record Listed<S>(List<String> names, ClassLoader loader)
            implements SoftServiceLoader.StaticServiceLoader<S> {
        @Override
        public Stream<SoftServiceLoader.StaticDefinition<S>> findAll(Predicate<String> condition) {
            return names.stream()
                    .filter(n -> condition == null || condition.test(n))
                    .map(this::definition)
                    .filter(Objects::nonNull);
        }

        @SuppressWarnings("unchecked")
        private SoftServiceLoader.StaticDefinition<S> definition(String name) {
            S service;
            try {
                MethodHandle constructor =
                        MethodHandles.publicLookup().findConstructor(Class.forName(name, false, loader), NO_ARGUMENTS);
                service = (S) constructor.invoke();
            } catch (NoClassDefFoundError | ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
                return null;
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(name, e);
            }
            return SoftServiceLoader.StaticDefinition.of(name, () -> service);
        }
    }
}
