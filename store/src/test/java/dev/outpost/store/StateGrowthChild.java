package dev.outpost.store;

import java.nio.file.Path;

/**
 * A process that fills a state store of 16 entries and grows it, stopping at one step of the
 * migration: it prints {@code AT <step>} and waits there to be killed (see {@link StateGrowthCrashTest}).
 */
public final class StateGrowthChild {
    /** Documents that fill the first map; one more starts the migration. */
    static final int FIRST_MAP_DOCS = 16;

    private StateGrowthChild() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        String stopAt = args[1];
        ChronicleStateStore s = ChronicleStateStore.open(file, 1000, 64, FIRST_MAP_DOCS, step -> {
            if (step.equals(stopAt)) {
                System.out.println("AT " + step);
                System.out.flush();
                try {
                    Thread.sleep(Long.MAX_VALUE); // until SIGKILL
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        for (int i = 0; i <= FIRST_MAP_DOCS; i++) {
            s.put(StateStoreGrowthTest.doc(i));
        }
        System.out.println("DONE without stopping at " + stopAt);
    }
}
