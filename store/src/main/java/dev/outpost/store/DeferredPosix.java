package dev.outpost.store;

import java.util.concurrent.CompletableFuture;
import net.openhft.posix.PosixAPI;
import net.openhft.posix.internal.PosixAPIHolder;
import net.openhft.posix.internal.jnr.JNRPosixAPI;
import net.openhft.posix.internal.noop.NoOpPosixAPI;

/**
 * Chronicle's POSIX binding, built on a thread of its own instead of inside Chronicle's first class
 * initialisation.
 *
 * <p>Design note. Chronicle's core asks for its POSIX binding ({@link PosixAPI#posix()}) while it
 * initialises, only to have it ready; the binding is jnr-ffi generating native stubs with ASM, ~250 ms
 * on a small device, and it blocked the first event log's opening. Nothing in opening the log calls
 * it: Chronicle Map does, to {@code fallocate} a new state file, and Chronicle's sync modes would, to
 * {@code msync}. Installed ({@link #install()}) before Chronicle's core initialises, this stands in as
 * the binding and builds the real one, exactly as Chronicle would ({@link JNRPosixAPI}, or a
 * {@link NoOpPosixAPI} naming why it failed), on a daemon thread. Invariants: every call is the real
 * binding's own (a caller that comes before it is built waits for it); {@code errno} is read on the
 * caller's thread as with the real binding (the calls and {@link #lastError()} both run there); installing is
 * only possible while Chronicle has no binding yet, so one process never has two.
 */
final class DeferredPosix implements PosixAPI {
    private final CompletableFuture<PosixAPI> real = new CompletableFuture<>();

    private DeferredPosix() {}

    /** Installs the stand-in and starts building the binding, unless Chronicle already has one. */
    static synchronized void install() {
        if (PosixAPIHolder.POSIX_API != null) {
            return;
        }
        PosixAPIHolder.POSIX_API = building();
    }

    /** A stand-in whose binding is being built (not installed). */
    static DeferredPosix building() {
        DeferredPosix deferred = new DeferredPosix();
        Thread.ofPlatform().daemon().name("outpost-posix-binding").start(deferred::build);
        return deferred;
    }

    private void build() {
        PosixAPI api;
        try {
            api = new JNRPosixAPI();
        } catch (Throwable t) { // what PosixAPIHolder.loadPosixApi does when the binding cannot be built
            api = new NoOpPosixAPI(t.toString());
        }
        real.complete(api);
    }

    private PosixAPI real() {
        return real.join();
    }

    @Override
    public int close(int fd) {
        return real().close(fd);
    }

    @Override
    public int fallocate(int fd, int mode, long offset, long length) {
        return real().fallocate(fd, mode, offset, length);
    }

    @Override
    public int ftruncate(int fd, long offset) {
        return real().ftruncate(fd, offset);
    }

    @Override
    public long lseek(int fd, long offset, int whence) {
        return real().lseek(fd, offset, whence);
    }

    @Override
    public int lockf(int fd, int cmd, long len) {
        return real().lockf(fd, cmd, len);
    }

    @Override
    public int madvise(long addr, long length, int advice) {
        return real().madvise(addr, length, advice);
    }

    @Override
    public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return real().mmap(addr, length, prot, flags, fd, offset);
    }

    @Override
    public boolean mlock(long addr, long length) {
        return real().mlock(addr, length);
    }

    @Override
    public boolean mlock2(long addr, long length, boolean lockOnFault) {
        return real().mlock2(addr, length, lockOnFault);
    }

    @Override
    public void mlockall(int flags) {
        real().mlockall(flags);
    }

    @Override
    public int msync(long address, long length, int flags) {
        return real().msync(address, length, flags);
    }

    @Override
    public int munmap(long addr, long length) {
        return real().munmap(addr, length);
    }

    @Override
    public int open(CharSequence path, int flags, int perm) {
        return real().open(path, flags, perm);
    }

    @Override
    public long read(int fd, long dst, long len) {
        return real().read(fd, dst, len);
    }

    @Override
    public long write(int fd, long src, long len) {
        return real().write(fd, src, len);
    }

    @Override
    public int gettimeofday(long timeval) {
        return real().gettimeofday(timeval);
    }

    @Override
    public int sched_setaffinity(int pid, int cpusetsize, long mask) {
        return real().sched_setaffinity(pid, cpusetsize, mask);
    }

    @Override
    public int sched_getaffinity(int pid, int cpusetsize, long mask) {
        return real().sched_getaffinity(pid, cpusetsize, mask);
    }

    @Override
    public int lastError() {
        return real().lastError();
    }

    @Override
    public long clock_gettime(int clockId) {
        return real().clock_gettime(clockId);
    }

    @Override
    public long malloc(long size) {
        return real().malloc(size);
    }

    @Override
    public void free(long ptr) {
        real().free(ptr);
    }

    @Override
    public int get_nprocs() {
        return real().get_nprocs();
    }

    @Override
    public int get_nprocs_conf() {
        return real().get_nprocs_conf();
    }

    @Override
    public int getpid() {
        return real().getpid();
    }

    @Override
    public int gettid() {
        return real().gettid();
    }

    @Override
    public String strerror(int errno) {
        return real().strerror(errno);
    }
}
