#!/usr/bin/env python3
"""Drops the native libraries of other platforms from the jars of a directory (sqlite-jdbc, zstd-jni,
jna, jffi and lz4-java carry them for every OS and CPU). Keeps a native library only if its path names
Linux and this CPU, and not musl or Android. usage: slim-jars.py LIB_DIR ARCH (amd64 | arm64)"""
import os, sys, zipfile

NATIVE = (".so", ".dylib", ".dll", ".jnilib", ".a")
CPU = {"amd64": ("x86_64", "amd64", "x86-64"), "arm64": ("aarch64", "arm64")}

def keep(name, cpus):
    low = name.lower()
    if not low.endswith(NATIVE) and ".so." not in low:
        return True
    return "linux" in low and any(c in low for c in cpus) and "musl" not in low and "android" not in low

def main():
    lib, arch = sys.argv[1], sys.argv[2]
    cpus = CPU[arch]
    saved = 0
    for jar in sorted(os.listdir(lib)):
        path = os.path.join(lib, jar)
        with zipfile.ZipFile(path) as z:
            dropped = [i for i in z.infolist() if not keep(i.filename, cpus)]
            if not dropped:
                continue
            tmp = path + ".tmp"
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
                for i in z.infolist():
                    if keep(i.filename, cpus):
                        out.writestr(i, z.read(i.filename))
        before = os.path.getsize(path)
        os.replace(tmp, path)
        saved += before - os.path.getsize(path)
        print(f"[dist] {jar}: dropped {len(dropped)} native libraries of other platforms", file=sys.stderr)
    print(f"[dist] slimmer jars: {saved // (1024 * 1024)} MiB saved", file=sys.stderr)

main()
