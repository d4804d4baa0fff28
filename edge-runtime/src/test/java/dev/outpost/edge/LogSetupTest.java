package dev.outpost.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

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
}
