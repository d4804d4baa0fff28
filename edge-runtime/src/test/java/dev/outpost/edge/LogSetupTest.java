package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import dev.outpost.store.LogFields;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** Logback finds the agent's set-up in code (no logback.xml): stderr, the pattern, quiet libraries. */
class LogSetupTest {
    @Test
    void logbackUsesTheSetUpInCode() {
        LoggerContext context = assertInstanceOf(LoggerContext.class, LoggerFactory.getILoggerFactory());
        var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ConsoleAppender<?> stderr = assertInstanceOf(ConsoleAppender.class, root.getAppender("STDERR"));
        assertNotNull(stderr);
        assertEquals("System.err", stderr.getTarget());
        assertEquals(LogSetup.PATTERN, ((PatternLayoutEncoder) stderr.getEncoder()).getPattern());
        assertEquals(Level.WARN, context.getLogger("net.openhft").getLevel());
        assertEquals(Level.WARN, context.getLogger("io.micronaut").getLevel());
    }

    /** Issue #16 point 4: the text format writes an entry's fields after its message, and nothing when it has none. */
    @Test
    void textLinesEndWithTheEntrysFields() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(LogSetup.PATTERN);
        text.start();
        var logger = context.getLogger("dev.outpost.test");
        LoggingEvent plain = new LoggingEvent("x", logger, Level.INFO, "nothing to add", null, null);
        LoggingEvent fields = new LoggingEvent("x", logger, Level.WARN, "refusing", null, null);
        fields.addKeyValuePair(new KeyValuePair(LogFields.LANE, "bulk"));
        fields.addKeyValuePair(new KeyValuePair(LogFields.ADVICE, "raise budget.disk"));
        String a = new String(text.encode(plain), StandardCharsets.UTF_8);
        String b = new String(text.encode(fields), StandardCharsets.UTF_8);
        assertTrue(a.endsWith(" - nothing to add" + System.lineSeparator()), a);
        assertTrue(
                b.endsWith(" - refusing outpost.lane=\"bulk\" outpost.advice=\"raise budget.disk\""
                        + System.lineSeparator()),
                b);
    }
}
