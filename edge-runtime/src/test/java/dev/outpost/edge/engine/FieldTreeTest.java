package dev.outpost.edge.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Reading numbers from an event's text: the allocation-free decimal path agrees with Double.parseDouble. */
class FieldTreeTest {
    static NumberText number(String s) {
        NumberText t = new NumberText();
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        assertTrue(t.read(b, 0, b.length), s);
        assertEquals(b.length, t.end, s);
        return t;
    }

    static double exact(String s) {
        NumberText t = number(s);
        return t.kind == EventFields.LONG ? t.longValue : t.doubleValue;
    }

    @Test
    void numbersGiveDoubleParseDoublesAnswer() {
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
            taken++;
            if (text.matches("-?[0-9]+")) {
                NumberText t = number(text);
                assertEquals(EventFields.LONG, t.kind, text);
                assertEquals(Long.parseLong(text), t.longValue, text); // -0 is 0
                continue;
            }
            double d = exact(text);
            assertEquals(Double.doubleToLongBits(Double.parseDouble(text)), Double.doubleToLongBits(d), text);
        }
        assertEquals(200_000, taken);
        assertEquals(0.1, exact("0.1"));
        assertEquals(-1.5, exact("-1.50"));
        assertEquals(1500.0, exact("1.5e3"));
        assertEquals(0.015, exact("1.5E-2"));
        assertEquals(Double.doubleToLongBits(-0.0), Double.doubleToLongBits(exact("-0.0")));
        assertEquals(1234567890.1234567, exact("1234567890.1234567"), "17 significant digits: off the fast path");
        assertEquals(1e23, exact("1e23"), "10^23 is not exact in a double: off the fast path");
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
