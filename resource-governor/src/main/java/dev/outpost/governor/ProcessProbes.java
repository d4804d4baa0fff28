package dev.outpost.governor;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/** Probes of this process on Linux. Every probe is cheap, never throws, and returns -1 when unavailable. */
public final class ProcessProbes {
    private static final Path PROC_STATUS = Path.of("/proc/self/status");
    private static final Path PROC_CGROUP = Path.of("/proc/self/cgroup");
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    private ProcessProbes() {}

    /** Resident set size in bytes (VmRSS of /proc/self/status). */
    public static Probe rssBytes() {
        return () -> statusBytes(PROC_STATUS, "VmRSS:");
    }

    /** Memory charged to this process's cgroup in bytes (v2 memory.current, v1 memory.usage_in_bytes); -1 if none. */
    public static Probe cgroupMemoryBytes() {
        Path file = cgroupMemoryFile(PROC_CGROUP, CGROUP_ROOT);
        return file == null ? () -> -1 : () -> readLong(file);
    }

    /** Heap in use, in bytes. */
    public static Probe heapUsedBytes() {
        MemoryMXBean memory;
        try {
            memory = ManagementFactory.getMemoryMXBean();
        } catch (RuntimeException | Error e) {
            return () -> -1;
        }
        return () -> {
            try {
                return memory.getHeapMemoryUsage().getUsed();
            } catch (RuntimeException e) {
                return -1;
            }
        };
    }

    /** Direct and mapped NIO buffers in use, in bytes (the "direct" and "mapped..." buffer pools). */
    public static Probe directAndMappedBytes() {
        List<BufferPoolMXBean> pools;
        try {
            pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(p -> p.getName().equals("direct") || p.getName().startsWith("mapped"))
                    .toList();
        } catch (RuntimeException | Error e) {
            return () -> -1;
        }
        if (pools.isEmpty()) {
            return () -> -1;
        }
        return () -> {
            try {
                long sum = 0;
                for (BufferPoolMXBean pool : pools) {
                    sum += Math.max(0, pool.getMemoryUsed());
                }
                return sum;
            } catch (RuntimeException e) {
                return -1;
            }
        };
    }

    /**
     * Process CPU in milli-cores (1000 = one core busy), averaged since the previous reading (the first: since the
     * probe was made). Calls less than {@value CpuProbe#WINDOW_MILLIS_MIN} ms after the previous reading repeat it.
     */
    public static Probe processCpuMilliCores() {
        try {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return new CpuProbe(os::getProcessCpuTime, System::nanoTime);
            }
        } catch (RuntimeException | Error e) {
            // fall through: unavailable
        }
        return () -> -1;
    }

    static final class CpuProbe implements Probe {
        // Process CPU time advances in scheduler ticks (10 ms): a window of a few ms (a writer's sampleNow() right
        // after a sample) reads 0 % or several hundred %, and actions that follow CPU would flap on that noise.
        /** Shortest window a reading averages over, in milliseconds. */
        static final long WINDOW_MILLIS_MIN = 500;

        private final LongSupplier cpuNanos;
        private final LongSupplier wallNanos;
        private long lastCpu;
        private long lastWall;
        private long lastValue;

        CpuProbe(LongSupplier cpuNanos, LongSupplier wallNanos) {
            this.cpuNanos = cpuNanos;
            this.wallNanos = wallNanos;
            this.lastCpu = cpuNanos.getAsLong();
            this.lastWall = wallNanos.getAsLong();
        }

        @Override
        public synchronized long usage() {
            try {
                long cpu = cpuNanos.getAsLong();
                long wall = wallNanos.getAsLong();
                if (cpu < 0 || lastCpu < 0) {
                    lastCpu = cpu;
                    return -1;
                }
                long elapsed = wall - lastWall;
                if (elapsed < WINDOW_MILLIS_MIN * 1_000_000) {
                    return lastValue;
                }
                lastValue = Math.max(0, (cpu - lastCpu) * 1000 / elapsed);
                lastCpu = cpu;
                lastWall = wall;
                return lastValue;
            } catch (RuntimeException e) {
                return -1;
            }
        }
    }

    /** The cgroup memory file to read (the first that holds a positive number), or null. */
    static Path cgroupMemoryFile(Path selfCgroup, Path root) {
        List<Path> candidates = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(selfCgroup)) {
                String[] fields = line.split(":", 3);
                if (fields.length != 3) {
                    continue;
                }
                String relative = fields[2].startsWith("/") ? fields[2].substring(1) : fields[2];
                if (fields[0].equals("0") && fields[1].isEmpty()) {
                    candidates.add(root.resolve(relative).resolve("memory.current"));
                } else if (Arrays.asList(fields[1].split(",")).contains("memory")) {
                    candidates.add(root.resolve("memory").resolve(relative).resolve("memory.usage_in_bytes"));
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc/self/cgroup: try the roots
        }
        candidates.add(root.resolve("memory.current"));
        candidates.add(root.resolve("memory").resolve("memory.usage_in_bytes"));
        for (Path candidate : candidates) {
            if (readLong(candidate) > 0) {
                return candidate;
            }
        }
        return null;
    }

    static long readLong(Path file) {
        try {
            return Long.parseLong(Files.readString(file).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A "Key:   123 kB" line of a /proc status file, in bytes. */
    static long statusBytes(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    long value = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
                }
            }
            return -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
