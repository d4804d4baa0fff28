package dev.outpost.store;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import net.openhft.posix.PosixAPI;
import net.openhft.posix.internal.PosixAPIHolder;
import net.openhft.posix.internal.jnr.JNRPosixAPI;
import net.openhft.posix.internal.noop.NoOpPosixAPI;

/**
 * Chronicle's POSIX binding without its cost at start: {@code fallocate} and {@code msync} through the JDK's
 * foreign-function API, every other call through Chronicle's own binding, built on first need.
 *
 * <p>Design note. Chronicle's core asks for its POSIX binding ({@link PosixAPI#posix()}) while it
 * initialises, only to have it ready. That binding is jnr-ffi generating native stubs with ASM: ~250 ms of CPU
 * on a small device, on the path of the first event log's opening, and generated classes kept for the
 * process's life. The agent's only uses of it are Chronicle Map's {@code fallocate} and {@code msync} of a new or
 * grown state file (the agent sets no sync mode and no micro-touching, Chronicle Queue's uses). Installed
 * ({@link #install()}) before Chronicle's core initialises, this stands in as the binding. Invariants:
 * {@link #fallocate} calls {@code fallocate64}, as Chronicle's binding first does on a 64-bit system, and
 * {@link #msync} calls {@code msync}; on any failure either hands the call to that binding, which repeats it
 * (both are idempotent) and answers as it always did — its fallbacks, its {@code errno}. Every other call is the
 * binding's own, built once ({@link JNRPosixAPI}, or a {@link NoOpPosixAPI} naming why it failed, exactly as
 * Chronicle would) by the first caller that needs it. Installing is only possible while Chronicle has no
 * binding yet, so one process never has two.
 */
final class DeferredPosix implements PosixAPI {
    private static final Linker LINKER = Linker.nativeLinker();

    /** Stands for a function this process does not call directly: calls go to Chronicle's binding. */
    private static final MethodHandle NOT_LINKED = MethodHandles.zero(int.class);

    private volatile MethodHandle fallocate64;
    private volatile MethodHandle msync;
    private volatile PosixAPI real;

    private DeferredPosix() {}

    /** Installs the stand-in, unless Chronicle already has a binding. */
    static synchronized void install() {
        if (PosixAPIHolder.POSIX_API == null) {
            PosixAPIHolder.POSIX_API = new DeferredPosix();
        }
    }

    /** A stand-in that is not installed. */
    static DeferredPosix create() {
        return new DeferredPosix();
    }

    /** Whether Chronicle's binding has been built (by a call other than a successful fallocate or msync). */
    boolean built() {
        return real != null;
    }

    private PosixAPI real() {
        PosixAPI api = real;
        if (api == null) {
            synchronized (this) {
                api = real;
                if (api == null) {
                    try {
                        api = new JNRPosixAPI();
                    } catch (Throwable t) { // what PosixAPIHolder.loadPosixApi does when it cannot be built
                        api = new NoOpPosixAPI(t.toString());
                    }
                    real = api;
                }
            }
        }
        return api;
    }

    @Override
    public int fallocate(int fd, int mode, long offset, long length) {
        MethodHandle f = fallocate64;
        if (f == null) {
            f = fallocate64 = link("fallocate64", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
        }
        try {
            if (f != NOT_LINKED && (int) f.invokeExact(fd, mode, offset, length) == 0) {
                return 0;
            }
        } catch (Throwable t) { // Chronicle's binding decides, with its own fallbacks
        }
        return real().fallocate(fd, mode, offset, length);
    }

    @Override
    public int msync(long address, long length, int flags) {
        MethodHandle f = msync;
        if (f == null) {
            f = msync = link("msync", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
        }
        try {
            if (f != NOT_LINKED && (int) f.invokeExact(MemorySegment.ofAddress(address), length, flags) == 0) {
                return 0;
            }
        } catch (Throwable t) { // Chronicle's binding answers, with its errno
        }
        return real().msync(address, length, flags);
    }

    /** A C library function, or {@link #NOT_LINKED} where it is not found or pointers are not 64 bits. */
    @SuppressWarnings("restricted") // the launcher and the tests enable native access, as zstd-jni needs too
    private static MethodHandle link(String name, MemoryLayout result, MemoryLayout... arguments) {
        if (ADDRESS.byteSize() != Long.BYTES) {
            return NOT_LINKED;
        }
        return LINKER.defaultLookup()
                .find(name)
                .map(symbol -> LINKER.downcallHandle(symbol, FunctionDescriptor.of(result, arguments)))
                .orElse(NOT_LINKED);
    }

    @Override
    public int close(int fd) {
        return real().close(fd);
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
