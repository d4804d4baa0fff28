package dev.outpost.edge.http;

import dev.outpost.store.LogFields;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals the paging cursors the agent hands out, so that it can tell its own from any other.
 *
 * <p>Design note. A cursor is {@code base64url(payload ‖ tag)} (no padding), where {@code tag} is
 * the first {@value #TAG_BYTES} bytes of HMAC-SHA256 over the scope (length-prefixed) and the payload,
 * keyed with {@value #KEY_BYTES} random bytes kept in {@code <data.dir>/}{@value #KEY_FILE} (mode
 * 600; created once, atomically, so cursors stay valid across restarts; deleting the file
 * invalidates every cursor issued before). Invariants: {@link Scoped#unseal} returns a payload only
 * for a token this key sealed for the same scope, compared in constant time; anything else —
 * forged, altered, truncated, from another data directory, or issued for another API or query
 * (the scope names it: the agent's log, a hub's copy of one node's log, a state namespace and
 * prefix) — is null, which every API answers with 400. The payload is signed, not encrypted: it
 * holds only what the client's own query said.
 */
public final class CursorSeal {
    private static final Logger LOG = LoggerFactory.getLogger(CursorSeal.class);

    /** The key file, in the data directory. */
    public static final String KEY_FILE = "cursor.key";
    /** Bytes of the key. */
    static final int KEY_BYTES = 32;
    /** Bytes of the tag in each cursor: 128 bits. */
    static final int TAG_BYTES = 16;
    /** Longest token accepted, in characters: more than any payload sealed here (a 256-character state id). */
    static final int TOKEN_CHARS_MAX = 2048;

    private static final String MAC = "HmacSHA256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    CursorSeal(byte[] key) {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a cursor key is " + KEY_BYTES + " bytes");
        }
        this.key = new SecretKeySpec(key, MAC);
    }

    /** The seal of {@code dataDir}: its key file read, or created if absent (or not a key). */
    public static CursorSeal load(Path dataDir) {
        Path file = dataDir.resolve(KEY_FILE);
        try {
            if (Files.exists(file)) {
                byte[] k = Files.readAllBytes(file);
                if (k.length == KEY_BYTES) {
                    restrict(file);
                    return new CursorSeal(k);
                }
                LOG.atWarn()
                        .addKeyValue(
                                LogFields.ADVICE,
                                "nothing to do: clients that were paging start again from the" + " first page")
                        .log(
                                "{} holds {} bytes, not a {}-byte key: replacing it; paging cursors issued before are refused",
                                file,
                                k.length,
                                KEY_BYTES);
            }
            byte[] k = new byte[KEY_BYTES];
            RANDOM.nextBytes(k);
            create(file, k);
            return new CursorSeal(k);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the cursor key " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the key to a private temporary file, syncs it, then moves it into place and syncs the directory. */
    private static void create(Path file, byte[] k) throws IOException {
        Path tmp = file.resolveSibling(KEY_FILE + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(tmp);
        } catch (FileAlreadyExistsException raced) {
            throw new IOException("another process is creating " + file, raced);
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(k));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot fsync {}: {}", file.getParent(), e.toString()); // not every platform opens directories
        }
    }

    /** Makes an existing key file private again if someone widened its permissions. */
    private static void restrict(Path file) throws IOException {
        Set<PosixFilePermission> only = PosixFilePermissions.fromString("rw-------");
        try {
            if (!Files.getPosixFilePermissions(file).equals(only)) {
                Files.setPosixFilePermissions(file, only);
                LOG.info("{}: permissions set back to 600", file);
            }
        } catch (UnsupportedOperationException notPosix) {
            // nothing to restrict on this filesystem
        }
    }

    /** This seal for one scope: the API and query whose cursors it seals and accepts. */
    public Scoped scoped(String scope) {
        return new Scoped(this, scope.getBytes(StandardCharsets.UTF_8));
    }

    /** A seal bound to a scope. */
    public static final class Scoped {
        private final CursorSeal seal;
        private final byte[] scope;

        private Scoped(CursorSeal seal, byte[] scope) {
            this.seal = seal;
            this.scope = scope;
        }

        /** The cursor for {@code payload}. */
        public String seal(String payload) {
            byte[] p = payload.getBytes(StandardCharsets.UTF_8);
            byte[] token = Arrays.copyOf(p, p.length + TAG_BYTES);
            System.arraycopy(seal.tag(scope, p, p.length), 0, token, p.length, TAG_BYTES);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
        }

        /** The payload sealed in {@code token} for this scope, or null if this agent did not issue it for it. */
        public String unseal(String token) {
            if (token == null || token.isEmpty() || token.length() > TOKEN_CHARS_MAX) {
                return null;
            }
            byte[] raw;
            try {
                raw = Base64.getUrlDecoder().decode(token);
            } catch (IllegalArgumentException notBase64) {
                return null;
            }
            // Only the canonical spelling: a decoder ignores the unused bits of the last character, so
            // without this a changed last character could still open.
            if (raw.length < TAG_BYTES
                    || !Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(raw)
                            .equals(token)) {
                return null;
            }
            int n = raw.length - TAG_BYTES;
            byte[] expected = seal.tag(scope, raw, n);
            if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(raw, n, raw.length))) {
                return null;
            }
            return new String(raw, 0, n, StandardCharsets.UTF_8);
        }
    }

    /** The truncated MAC of {@code length(scope) ‖ scope ‖ payload[0, n)}: the length keeps scope and payload apart. */
    private byte[] tag(byte[] scope, byte[] payload, int n) {
        try {
            Mac mac = Mac.getInstance(MAC);
            mac.init(key);
            mac.update(ByteBuffer.allocate(Integer.BYTES).putInt(scope.length).flip());
            mac.update(scope);
            mac.update(payload, 0, n);
            return Arrays.copyOf(mac.doFinal(), TAG_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
