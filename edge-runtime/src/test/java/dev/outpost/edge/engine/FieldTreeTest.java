package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Reading numbers from an event's text: the allocation-free decimal path agrees with Double.parseDouble. */
class FieldTreeTest {
    static double exact(String s) {
        return FieldTree.exactDecimal(s.toCharArray(), 0, s.length());
    }

    @Test
    void theFastPathGivesDoubleParseDoublesAnswerOrDeclines() {
        SplittableRandom rnd = new SplittableRandom(7);
        int taken = 0;
        for (int n = 0; n < 200_000; n++) {
            StringBuilder s = new StringBuilder(rnd.nextBoolean() ? "-" : "");
            int digits = 1 + rnd.nextInt(18);
            int point = rnd.nextInt(digits + 1);
            for (int i = 0; i < digits; i++) {
                if (i == point && i > 0) {
                    s.append('.');
                }
                s.append((char) ('0' + (i == 0 && digits > 1 && point != 1 ? 1 + rnd.nextInt(9) : rnd.nextInt(10))));
            }
            if (rnd.nextInt(3) == 0) {
                s.append(rnd.nextBoolean() ? 'e' : 'E')
                        .append(new String[] {"", "+", "-"}[rnd.nextInt(3)])
                        .append(rnd.nextInt(40));
            }
            String text = s.toString();
            double d = exact(text);
            if (!Double.isNaN(d)) {
                taken++;
                assertEquals(Double.doubleToLongBits(Double.parseDouble(text)), Double.doubleToLongBits(d), text);
            }
        }
        assertTrue(taken > 100_000, taken + " of 200000 on the fast path");
        assertEquals(0.1, exact("0.1"));
        assertEquals(-1.5, exact("-1.50"));
        assertEquals(1500.0, exact("1.5e3"));
        assertEquals(0.015, exact("1.5E-2"));
        assertEquals(Double.doubleToLongBits(-0.0), Double.doubleToLongBits(exact("-0.0")));
        assertTrue(Double.isNaN(exact("1234567890.1234567")), "17 significant digits decline");
        assertTrue(Double.isNaN(exact("1e23")), "10^23 is not exact in a double");
    }

    @Test
    void fractionsInEventsAreComparedAndReadWithoutAllocating() {
        RuleSet set = EvaluatorTest.rules("r: {stream: s, conditions: [{field: load, op: gt, value: 0.75}]}");
        Evaluator e = set.evaluator();
        String[] loads = {"0.37", "0.751", "7.5e-1", "1.0E0", "0.00075e3", "12345678901234567.5"};
        boolean[] fires = {false, true, false, true, false, true};
        byte[][] events = new byte[loads.length][];
        for (int i = 0; i < loads.length; i++) {
            events[i] = ("{\"stream\":\"s\",\"data\":{\"load\":" + loads[i] + "}}").getBytes(StandardCharsets.UTF_8);
            int[] fired = {0};
            e.evaluate("s", events[i], 0, events[i].length, f -> fired[0]++);
            assertEquals(fires[i] ? 1 : 0, fired[0], loads[i]);
        }
        Evaluator.Sink sink = f -> {};
        for (int i = 0; i < 20_000; i++) {
            byte[] b = events[i % 3 == 2 ? 0 : i % 3];
            e.evaluate("s", b, 0, b.length, sink);
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 50_000; i++) {
            byte[] b = events[i % 2 == 0 ? 0 : 2]; // fractions that fire nothing, on the fast path
            e.evaluate("s", b, 0, b.length, sink);
        }
        assertEquals(0, (threads.getCurrentThreadAllocatedBytes() - before) / 50_000);
    }
}
