package dev.outpost.compress.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Deterministic generator of realistic telemetry events, JSON of about 200 bytes each: sensor
 * readings from a fleet of devices (each device belongs to one site and has its own baseline, so
 * values repeat the way real fleets do) mixed with network-traffic-ledger records from gateways.
 * The same seed always gives the same bytes.
 */
public final class Telemetry {
    /** Fleet size: devices {@code dev-0000..dev-1999}, spread over {@link #SITES} sites. */
    static final int DEVICES = 2000;
    /** Number of sites ({@code store-0000..}). */
    static final int SITES = 240;
    /** Network gateways ({@code gw-000..}), one or two per site. */
    static final int GATEWAYS = 400;
    /** Start of the generated time range (2026-11-23, epoch ms). */
    static final long BASE_TS = 1_795_410_041_516L;

    private static final String[] FIRMWARE = {"4.2.1", "4.2.1", "4.2.1", "4.2.0", "4.1.7", "4.3.0-rc2"};
    private static final String[] DOOR = {"closed", "closed", "closed", "closed", "closed", "closed", "open", "ajar"};
    private static final String[] MODES = {"auto", "auto", "auto", "eco", "manual", "defrost"};
    private static final String[] PROTOCOLS = {"TCP", "TCP", "TCP", "TCP", "UDP", "UDP", "ICMP", "QUIC"};
    private static final int[] PORTS = {443, 443, 443, 443, 80, 53, 123, 8883, 1883, 22, 5671};
    private static final String[] EXTERNAL_NETS = {"52.94.", "34.120.", "13.107.", "142.250.", "104.18.", "151.101."};

    private Telemetry() {}

    /** One event with a timestamp somewhere in the day after {@link #BASE_TS}. */
    public static byte[] event(Random r) {
        return event(r, BASE_TS + r.nextInt(86_400_000));
    }

    /** {@code n} events with seed {@code seed}, timestamps increasing a few ms apart. */
    public static List<byte[]> events(long seed, int n) {
        Random r = new Random(seed);
        long ts = BASE_TS + r.nextInt(86_400_000);
        List<byte[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ts += r.nextInt(40);
            out.add(event(r, ts));
        }
        return out;
    }

    /**
     * Newline-delimited events with seed {@code seed}, as many whole lines as fit in {@code bytes}
     * (so the block is at most {@code bytes} long, and within one event of it).
     */
    public static byte[] block(long seed, int bytes) {
        Random r = new Random(seed);
        long ts = BASE_TS + r.nextInt(86_400_000);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes);
        while (true) {
            ts += r.nextInt(40);
            byte[] e = event(r, ts);
            if (out.size() + e.length + 1 > bytes) {
                return out.toByteArray();
            }
            out.write(e, 0, e.length);
            out.write('\n');
        }
    }

    private static byte[] event(Random r, long ts) {
        String json = r.nextInt(100) < 78 ? sensor(r, ts) : ledger(r, ts);
        return json.getBytes(StandardCharsets.UTF_8);
    }

    /** A sensor reading: values around the device's own baseline. */
    private static String sensor(Random r, long ts) {
        int dev = skewed(r, DEVICES);
        int site = (int) ((dev * 2_654_435_761L) % SITES);
        Random base = new Random(dev); // the device's fixed character
        double temp = 4 + base.nextInt(20) + r.nextGaussian() * 0.8;
        double humidity = 30 + base.nextInt(40) + r.nextGaussian() * 2;
        boolean hasMotor = base.nextInt(4) != 0;
        int rpm = hasMotor && r.nextInt(10) != 0 ? 900 + base.nextInt(1800) + r.nextInt(120) : 0;
        double battery = 3.3 + base.nextInt(90) / 100.0 - r.nextInt(5) / 100.0;
        int alarms = r.nextInt(50) == 0 ? 1 + r.nextInt(3) : 0;
        StringBuilder sb = new StringBuilder(224);
        sb.append("{\"stream\":\"sensors\",\"key\":\"dev-")
                .append(pad(dev, 4))
                .append("\",\"ts\":")
                .append(ts)
                .append(",\"data\":{\"site\":\"store-")
                .append(pad(site, 4))
                .append("\",\"temp_c\":")
                .append(String.format(Locale.ROOT, "%.2f", temp))
                .append(",\"humidity\":")
                .append(String.format(Locale.ROOT, "%.1f", humidity))
                .append(",\"rpm\":")
                .append(rpm)
                .append(",\"door\":\"")
                .append(DOOR[r.nextInt(DOOR.length)])
                .append("\",\"mode\":\"")
                .append(MODES[base.nextInt(MODES.length)])
                .append("\",\"battery_v\":")
                .append(String.format(Locale.ROOT, "%.2f", battery))
                .append(",\"rssi\":")
                .append(-45 - base.nextInt(30) - r.nextInt(8))
                .append(",\"fw\":\"")
                .append(FIRMWARE[base.nextInt(FIRMWARE.length)])
                .append("\",\"alarms\":")
                .append(alarms)
                .append("}}");
        return sb.toString();
    }

    /** A network-traffic-ledger record from a site gateway. */
    private static String ledger(Random r, long ts) {
        int gw = skewed(r, GATEWAYS);
        int site = gw % SITES;
        String src = "10." + (site >> 4) + "." + ((site & 15) * 16 + r.nextInt(8)) + "." + (2 + r.nextInt(250));
        String dst = r.nextInt(5) == 0
                ? "10." + r.nextInt(16) + "." + r.nextInt(256) + "." + (1 + r.nextInt(254))
                : EXTERNAL_NETS[r.nextInt(EXTERNAL_NETS.length)] + r.nextInt(256) + "." + (1 + r.nextInt(254));
        String protocol = PROTOCOLS[r.nextInt(PROTOCOLS.length)];
        // Heavy-tailed sizes: most flows are small, a few are large.
        long bytes = (long) Math.min(2e9, Math.exp(5 + r.nextDouble() * 12));
        StringBuilder sb = new StringBuilder(224);
        sb.append("{\"stream\":\"netflow\",\"key\":\"gw-")
                .append(pad(gw, 3))
                .append("\",\"ts\":")
                .append(ts)
                .append(",\"data\":{\"source_ip\":\"")
                .append(src)
                .append("\",\"destination_ip\":\"")
                .append(dst)
                .append("\",\"bytes_transferred\":")
                .append(bytes)
                .append(",\"packets\":")
                .append(Math.max(1, bytes / (600 + r.nextInt(900))))
                .append(",\"protocol\":\"")
                .append(protocol)
                .append("\",\"dst_port\":")
                .append(protocol.equals("ICMP") ? 0 : PORTS[r.nextInt(PORTS.length)])
                .append(",\"duration_ms\":")
                .append(r.nextInt(30_000))
                .append("}}");
        return sb.toString();
    }

    /** A skewed pick in [0, n): a quarter of the fleet sends about half of the events. */
    private static int skewed(Random r, int n) {
        return r.nextBoolean() ? r.nextInt(n / 4) : r.nextInt(n);
    }

    private static String pad(int v, int width) {
        String s = Integer.toString(v);
        return "0".repeat(Math.max(0, width - s.length())) + s;
    }
}
