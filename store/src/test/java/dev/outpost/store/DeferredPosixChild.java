package dev.outpost.store;

import java.nio.file.Path;
import net.openhft.posix.PosixAPI;

/**
 * A process that starts as the agent does — {@link ClassPreload#chronicle()} first, then a state store
 * (Chronicle Map, which fallocates its new file through the POSIX binding) — and prints the binding's
 * class and the file's size (see {@link DeferredPosixTest}).
 */
public final class DeferredPosixChild {
    private DeferredPosixChild() {}

    public static void main(String[] args) {
        ClassPreload.chronicle();
        Path file = Path.of(args[0]);
        try (ChronicleStateStore s = ChronicleStateStore.open(file, 1000, 64)) {
            s.put(StateStoreGrowthTest.doc(1));
            System.out.println("BINDING " + PosixAPI.posix().getClass().getSimpleName());
            System.out.println("STORED " + s.size());
            System.out.println("JNR BUILT " + ((DeferredPosix) PosixAPI.posix()).built());
        }
    }
}
