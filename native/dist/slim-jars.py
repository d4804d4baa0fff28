#!/usr/bin/env python3
"""Drops what only other platforms use from the jars of a directory:
- native libraries (sqlite-jdbc, zstd-jni, jna, jffi and lz4-java carry them for every OS and CPU):
  a native library stays only if its path names Linux and this CPU, and not musl or Android;
- jnr-constants' constant tables of other operating systems and other Linux CPUs (x86_64's are
  the linux package itself, the others its subpackages; 'fake' is its fallback and stays);
- jna-platform's Windows and macOS bindings and its AWT helpers (dnd, WindowUtils,
  RasterRangesUtils: the runtime has no java.desktop).
None of these classes is loaded on Linux (native/dist/test.sh runs every path of the agent).
usage: slim-jars.py LIB_DIR ARCH (amd64 | arm64)"""
import os, sys, zipfile

NATIVE = (".so", ".dylib", ".dll", ".jnilib", ".a")
CPU = {"amd64": ("x86_64", "amd64", "x86-64"), "arm64": ("aarch64", "arm64", "aarch_64")}  # aarch_64: Netty's
JNR_CONSTANTS = "jnr/constants/platform/"
JNA_PLATFORM_ELSEWHERE = ("com/sun/jna/platform/win32/", "com/sun/jna/platform/mac/", "com/sun/jna/platform/dnd/",
                          "com/sun/jna/platform/WindowUtils", "com/sun/jna/platform/RasterRangesUtils")


def keep_native(jar, name, cpus):
    low = name.lower()
    if not low.endswith(NATIVE) and ".so." not in low:
        return True
    # Netty's native jars name the OS in the jar (netty-transport-native-epoll-*-linux-x86_64.jar), not the path
    linux = "linux" in low or "-linux-" in jar.lower()
    return linux and any(c in low for c in cpus) and "musl" not in low and "android" not in low


def keep_class(jar, name, cpus):
    if jar.startswith("jnr-constants-") and name.startswith(JNR_CONSTANTS):
        parts = name[len(JNR_CONSTANTS):].split("/")
        if len(parts) == 1:  # the platform-neutral classes of the package itself
            return True
        if parts[0] == "fake":
            return True
        if parts[0] != "linux":
            return False
        return len(parts) == 2 or parts[1] in cpus  # x86_64 is linux/ itself; others are subpackages
    if jar.startswith("jna-platform-"):
        return not name.startswith(JNA_PLATFORM_ELSEWHERE)
    return True


def main():
    lib, arch = sys.argv[1], sys.argv[2]
    cpus = CPU[arch]
    saved = 0
    for jar in sorted(os.listdir(lib)):
        path = os.path.join(lib, jar)
        keep = lambda n: keep_native(jar, n, cpus) and keep_class(jar, n, cpus)
        with zipfile.ZipFile(path) as z:
            dropped = [i for i in z.infolist() if not keep(i.filename)]
            if not dropped:
                continue
            tmp = path + ".tmp"
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
                for i in z.infolist():
                    if keep(i.filename):
                        out.writestr(i, z.read(i.filename))
        before = os.path.getsize(path)
        os.replace(tmp, path)
        saved += before - os.path.getsize(path)
        print(f"[dist] {jar}: dropped {len(dropped)} entries only other platforms use", file=sys.stderr)
    print(f"[dist] slimmer jars: {saved // (1024 * 1024)} MiB saved", file=sys.stderr)


main()
