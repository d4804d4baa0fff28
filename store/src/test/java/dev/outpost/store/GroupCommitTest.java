package dev.outpost.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit on real files: a cycle retention deleted is not an fsync failure; a lost file is. */
class GroupCommitTest {
    @TempDir
    Path dir;

    @Test
    void aCycleDeletedByRetentionIsNotAnErrorAMissingFileIs() throws Exception {
        Path live = Files.writeString(dir.resolve("7.cq4"), "x");
        Set<Integer> deleted = Set.of(5);
        LogCounters counters = new LogCounters();
        try (GroupCommit g = new GroupCommit(c -> dir.resolve(c + ".cq4"), deleted::contains, 0, counters, null)) {
            g.enqueue(7).get(5, TimeUnit.SECONDS);
            assertEquals(1, counters.fsyncs.sum());

            CompletableFuture<Void> retired = g.enqueue(5); // no file: retention deleted it
            retired.get(5, TimeUnit.SECONDS);

            CompletableFuture<Void> lost = g.enqueue(6); // no file, and retention did not delete it
            ExecutionException e = assertThrows(ExecutionException.class, () -> lost.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof StoreException, e.toString());
            assertTrue(Files.exists(live));
        }
    }
}
