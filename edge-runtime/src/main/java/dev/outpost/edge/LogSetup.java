package dev.outpost.edge;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import co.elastic.logging.EcsJsonSerializer;
import co.elastic.logging.logback.EcsEncoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * The agent's logging, set up in code (found by logback through {@code META-INF/services}) rather than read from a
 * logback.xml: parsing the XML was a sixth of the agent's start-up samples. Lines go to stderr; {@code
 * OUTPOST_LOG_LEVEL} sets the level (default INFO); Chronicle, Netty and Micronaut log warnings and above only.
 *
 * <p>Design note. Two formats, chosen by {@code node.log_format} once the configuration is read ({@link #use}; until
 * then, text): {@code text}, {@code 2026-12-06T10:00:00.000Z WARN  [thread] logger - message key="value"...}, and
 * {@code json}, one Elastic Common Schema object per line written by Elastic's own encoder ({@code @timestamp},
 * {@code log.level}, {@code message}, {@code service.name}, {@code service.node.name}, {@code log.logger}, {@code
 * process.thread.name}, {@code error.type}/{@code error.message}/{@code error.stack_trace}). What a line is about is
 * not only in its message: log calls about an operation add SLF4J key-value pairs named in {@link
 * dev.outpost.store.LogFields} ({@code outpost.lane}, {@code outpost.stream}, {@code outpost.node}, and on warnings
 * {@code outpost.advice}), which both formats write as fields. Field names are stable: a log shipper may key on them.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    static final String PATTERN =
            "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level [%thread] %logger{24} - %msg%replace( %kvp){'^ $',''}%n";

    /** The formats of {@code node.log_format}. */
    public static final List<String> FORMATS = List.of("text", "json");

    private static final String APPENDER = "STDERR";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName(APPENDER);
        stderr.setTarget("System.err");
        stderr.setEncoder(text(context));
        stderr.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(System.getenv("OUTPOST_LOG_LEVEL"), Level.INFO));
        root.addAppender(stderr);
        for (String quiet : new String[] {"net.openhft", "io.netty", "io.micronaut"}) {
            context.getLogger(quiet).setLevel(Level.WARN);
        }
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * Writes stderr in {@code format} ({@code text} or {@code json}) from now on, naming {@code node} as the service
     * node in JSON. Does nothing where logging is not this set-up (another logback configuration).
     */
    public static synchronized void use(String format, String node) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)
                || !(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER)
                        instanceof ConsoleAppender<ILoggingEvent> stderr)) {
            return;
        }
        Encoder<ILoggingEvent> encoder = "json".equals(format) ? json(context, node) : text(context);
        stderr.stop();
        stderr.getEncoder().stop();
        stderr.setEncoder(encoder);
        stderr.start();
    }

    /** Whether stderr is written as JSON now. */
    public static boolean json() {
        return LoggerFactory.getILoggerFactory() instanceof LoggerContext context
                && context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(APPENDER)
                        instanceof ConsoleAppender<ILoggingEvent> stderr
                && stderr.getEncoder() instanceof EcsEncoder;
    }

    private static Encoder<ILoggingEvent> text(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> json(LoggerContext context, String node) {
        EcsEncoder encoder = new KeyValueEcsEncoder();
        encoder.setContext(context);
        encoder.setServiceName("outpost");
        String version = LogSetup.class.getPackage().getImplementationVersion();
        if (version != null) {
            encoder.setServiceVersion(version);
        }
        encoder.setServiceNodeName(node);
        encoder.start();
        return encoder;
    }

    /**
     * Elastic's encoder writes the MDC as fields but not SLF4J 2 key-value pairs (the agent's structured arguments):
     * this adds them, through the same serializer, after the MDC.
     */
    static final class KeyValueEcsEncoder extends EcsEncoder {
        @Override
        protected void addCustomFields(ILoggingEvent event, StringBuilder builder) {
            List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs == null || pairs.isEmpty()) {
                return;
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (KeyValuePair p : pairs) {
                if (p.value != null) {
                    fields.put(p.key, String.valueOf(p.value));
                }
            }
            EcsJsonSerializer.serializeMDC(builder, fields);
        }
    }
}
