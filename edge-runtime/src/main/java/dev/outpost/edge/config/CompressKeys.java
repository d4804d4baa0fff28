package dev.outpost.edge.config;

import java.nio.file.Path;
import java.util.List;

/** Section {@code compress}: where the native codecs load from, and what if they cannot. */
final class CompressKeys {
    static final ConfigSection SECTION = new ConfigSection("compress");

    /** Null when empty: the directory then follows data.dir (see {@link #read}). */
    static final ConfigKey<Path> NATIVE_DIR = SECTION.add(ConfigKey.text(
            "compress.native_dir",
            "",
            "Directory the Zstd and LZ4 native libraries are unpacked to and loaded from."
                    + " Empty: <data.dir>/native. Must allow executables (not a noexec mount).",
            s -> s.isBlank() ? null : ConfigKey.pathOf("compress.native_dir", s)));

    static final ConfigKey<String> NATIVE_MISSING = SECTION.add(ConfigKey.oneOf(
            "compress.native_missing",
            "fallback",
            List.of("fallback", "refuse"),
            "If a native library cannot load: fallback (LZ4 in pure Java, no Zstd; said at startup)"
                    + " or refuse to start."));

    private CompressKeys() {}

    static OutpostConfig.Compress read(ConfigValues v) {
        Path dir = v.get(NATIVE_DIR);
        return new OutpostConfig.Compress(
                dir != null ? dir : v.get(DataKeys.DIR).resolve("native"), v.get(NATIVE_MISSING));
    }
}
