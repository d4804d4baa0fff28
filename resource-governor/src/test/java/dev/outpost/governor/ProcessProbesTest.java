package dev.outpost.governor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessProbesTest {
    @Test
    void plausibleValuesOnThisBox() throws Exception {
        assertTrue(ProcessProbes.rssBytes().usage() > 1 << 20);
        assertTrue(ProcessProbes.heapUsedBytes().usage() > 0);
        assertTrue(ProcessProbes.directAndMappedBytes().usage() >= 0);
        long cgroup = ProcessProbes.cgroupMemoryBytes().usage();
        assertTrue(cgroup == -1 || cgroup > 0, "cgroup " + cgroup);

        Probe cpu = ProcessProbes.processCpuMilliCores();
        cpu.usage();
        long spin = System.nanoTime() + 20_000_000;
        long x = 0;
        while (System.nanoTime() < spin) {
            x += x * 31 + 7;
        }
        assertTrue(cpu.usage() >= 0, "x=" + x);
    }

    @Test
    void cpuIsTheDeltaOfCpuTimeOverWallTime() {
        var cpu = new AtomicLong();
        var wall = new AtomicLong();
        var probe = new ProcessProbes.CpuProbe(cpu::get, wall::get);
        cpu.set(1_500_000_000L); // 1.5 s of CPU in 1 s: 1.5 cores
        wall.set(1_000_000_000L);
        assertEquals(1500, probe.usage());
        cpu.addAndGet(20_000_000L); // one scheduler tick more, 5 ms later: would read 4 cores
        wall.addAndGet(5_000_000L);
        assertEquals(1500, probe.usage(), "too soon: repeats");
        wall.addAndGet(ProcessProbes.CpuProbe.WINDOW_MILLIS_MIN * 1_000_000 - 5_000_001L);
        assertEquals(1500, probe.usage(), "still under the shortest window");
        cpu.addAndGet(230_000_000L);
        wall.addAndGet(1_000_000_000L - ProcessProbes.CpuProbe.WINDOW_MILLIS_MIN * 1_000_000 + 1);
        assertEquals(250, probe.usage(), "one second after the last reading: 0.25 s of CPU");
    }

    @Test
    void findsTheCgroupMemoryFile(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("sys");
        Path self = dir.resolve("cgroup");

        Files.writeString(self, "0::/outpost.slice\n");
        Files.createDirectories(root.resolve("outpost.slice"));
        Files.writeString(root.resolve("outpost.slice/memory.current"), "12345\n");
        assertEquals(root.resolve("outpost.slice/memory.current"), ProcessProbes.cgroupMemoryFile(self, root));
        assertEquals(12345, ProcessProbes.readLong(ProcessProbes.cgroupMemoryFile(self, root)));

        Files.writeString(self, "4:cpu,cpuacct:/x\n9:memory:/docker/abc\n");
        Files.createDirectories(root.resolve("memory/docker/abc"));
        Files.writeString(root.resolve("memory/docker/abc/memory.usage_in_bytes"), "777");
        assertEquals(
                root.resolve("memory/docker/abc/memory.usage_in_bytes"), ProcessProbes.cgroupMemoryFile(self, root));

        assertNull(ProcessProbes.cgroupMemoryFile(dir.resolve("none"), dir.resolve("none-either")));
    }

    @Test
    void parsesProcStatus(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nVmPeak:\t  9000 kB\nVmRSS:\t   2048 kB\n");
        assertEquals(2048 * 1024, ProcessProbes.statusBytes(status, "VmRSS:"));
        assertEquals(-1, ProcessProbes.statusBytes(status, "VmSwap:"));
        assertEquals(-1, ProcessProbes.statusBytes(dir.resolve("absent"), "VmRSS:"));
    }
}
