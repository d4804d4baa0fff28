package dev.outpost.edge.http;

import io.micronaut.http.HttpRequest;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses query parameters a read does not know: a misspelt filter (strem=, prefx=) would otherwise be ignored and
 * the read answer everything, which looks like a right answer.
 */
final class KnownParameters {
    private KnownParameters() {}

    /** Throws a 400 problem naming the first parameter of {@code request} not in {@code known}. */
    static void check(HttpRequest<?> request, Set<String> known) {
        for (String name : request.getParameters().names()) {
            if (!known.contains(name)) {
                throw new ProblemException(
                        400,
                        "Invalid query",
                        "unknown parameter; allowed: " + String.join(", ", new TreeSet<>(known)),
                        0,
                        name);
            }
        }
    }
}
