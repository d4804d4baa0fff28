package dev.outpost.edge.config;

import static dev.outpost.edge.config.ConfigKey.GIB;
import static dev.outpost.edge.config.ConfigKey.KIB;
import static dev.outpost.edge.config.ConfigKey.MIB;

import java.nio.file.Path;
import java.util.List;

/** Section {@code http}: the HTTP API's listener, body limit, token, TLS and patience with slow clients. */
final class HttpKeys {
    static final ConfigSection SECTION = new ConfigSection("http");

    static final ConfigKey<String> HOST = SECTION.add(
            ConfigKey.text("http.host", "127.0.0.1", "Address the HTTP API binds to. Loopback by default."));
    static final ConfigKey<Integer> PORT = SECTION.add(
            ConfigKey.integer("http.port", 7070, 0, 65535, "", "TCP port of the HTTP API (0: any free port)."));
    static final ConfigKey<Long> BODY_BYTES_MAX = SECTION.add(ConfigKey.bytes(
            "http.body_bytes_max", MIB, KIB, 256 * MIB, "Largest request body accepted; larger gets 413."));
    static final ConfigKey<String> API_TOKEN = SECTION.add(
            ConfigKey.text("http.api_token", "", "If set, every /v1 request needs 'Authorization: Bearer <token>'."));
    static final ConfigKey<Path> TLS_KEY_STORE = SECTION.add(ConfigKey.optionalPath(
            "http.tls_key_store",
            "PKCS12 key store (private key and certificate) to serve HTTPS only on http.port. Empty: plain HTTP."));
    static final ConfigKey<String> TLS_KEY_STORE_PASSWORD = SECTION.add(
            ConfigKey.text("http.tls_key_store_password", "", "Password of http.tls_key_store (and of its key)."));
    static final ConfigKey<Long> HEADER_TIMEOUT_MILLIS = SECTION.add(ConfigKey.count(
            "http.header_timeout_millis",
            5_000,
            100,
            600_000,
            "milliseconds",
            "A connection that has not sent complete request headers this long after it opened (or after the first"
                    + " byte of a later request) is closed."));
    static final ConfigKey<Long> IDLE_TIMEOUT_MILLIS = SECTION.add(ConfigKey.count(
            "http.idle_timeout_millis",
            60_000,
            100,
            3_600_000,
            "milliseconds",
            "A kept-alive connection with no request in flight is closed after this long."));
    static final ConfigKey<Long> BODY_RATE_BYTES_PER_SECOND_MIN = SECTION.add(ConfigKey.bytes(
            "http.body_rate_bytes_per_second_min",
            KIB,
            1,
            GIB,
            "A request body averaging less than this once http.body_grace_millis is over is cut with 408."));
    static final ConfigKey<Long> BODY_GRACE_MILLIS = SECTION.add(ConfigKey.count(
            "http.body_grace_millis",
            5_000,
            100,
            600_000,
            "milliseconds",
            "How long a request body may arrive before its rate is judged."));

    static final ConfigKey<Boolean> FAST_PATH = SECTION.add(ConfigKey.oneOf(
            "http.fast_path",
            "true",
            List.of("true", "false"),
            "Answer the hot requests (POST /v1/events, plain GET /v1/state/{ns}/{id}, GET /health) in the Netty"
                    + " pipeline ahead of the router, with the same answers; false sends every request through the"
                    + " router.",
            "true"::equals));

    private HttpKeys() {}

    static OutpostConfig.Http read(ConfigValues v) {
        return new OutpostConfig.Http(
                v.get(HOST),
                v.get(PORT),
                v.get(BODY_BYTES_MAX),
                v.get(API_TOKEN),
                v.get(TLS_KEY_STORE),
                v.get(TLS_KEY_STORE_PASSWORD),
                v.get(HEADER_TIMEOUT_MILLIS),
                v.get(IDLE_TIMEOUT_MILLIS),
                v.get(BODY_RATE_BYTES_PER_SECOND_MIN),
                v.get(BODY_GRACE_MILLIS),
                v.get(FAST_PATH));
    }
}
