package dev.outpost.edge.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cursors are accepted only as sealed, for the scope they were sealed for, with the data directory's key. */
class CursorSealTest {
    @TempDir
    Path dir;

    @Test
    void aSealedCursorOpensOnlyUnchangedAndInItsScope() throws Exception {
        CursorSeal.Scoped events = CursorSeal.load(dir).scoped("events");
        String token = events.seal("1|42|sensors|9223372036854775807");
        assertEquals("1|42|sensors|9223372036854775807", events.unseal(token));
        assertNull(CursorSeal.load(dir).scoped("state:devices?prefix=").unseal(token), "another scope");
        assertNull(CursorSeal.load(dir).scoped("fleet-events:edge-1").unseal(token), "another API");
        // Every single-character change is refused (the payload and the tag alike).
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = 0; i < token.length(); i++) {
            char other = alphabet.charAt((alphabet.indexOf(token.charAt(i)) + 1) % alphabet.length());
            String altered = token.substring(0, i) + other + token.substring(i + 1);
            assertNull(events.unseal(altered), "changed at " + i + ": " + altered);
        }
        // A payload whose token has unused bits in its last character (19 bytes: 4 spare bits): every
        // other spelling of that character decodes to the same bytes and must still be refused.
        String odd = events.seal("d-2");
        String head = odd.substring(0, odd.length() - 1);
        int spelled = 0;
        for (char c : alphabet.toCharArray()) {
            String t = head + c;
            if (!t.equals(odd)) {
                assertNull(events.unseal(t), t);
            } else {
                spelled++;
            }
        }
        assertEquals(1, spelled);
        assertEquals("d-2", events.unseal(odd));
        assertNull(events.unseal(odd + "=="), "padded");
        assertNull(events.unseal(token.substring(0, token.length() - 1)));
        assertNull(events.unseal(token + "A"));
        assertNull(events.unseal(""));
        assertNull(events.unseal(null));
        assertNull(events.unseal("not base64 !"));
        assertNull(events.unseal("A".repeat(CursorSeal.TOKEN_CHARS_MAX + 4)));
        // The unsealed cursors of earlier versions: well-formed, but not sealed.
        String old = Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString("1|1||9223372036854775807".getBytes(StandardCharsets.UTF_8));
        assertNull(events.unseal(old));
        assertNull(events.unseal(Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[40])));
    }

    @Test
    void theKeyIsCreatedOncePrivateAndSurvivesALoad() throws Exception {
        String token = CursorSeal.load(dir).scoped("events").seal("1|7||5");
        Path key = dir.resolve(CursorSeal.KEY_FILE);
        assertEquals(CursorSeal.KEY_BYTES, Files.size(key));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        byte[] first = Files.readAllBytes(key);
        assertEquals("1|7||5", CursorSeal.load(dir).scoped("events").unseal(token), "a restart keeps cursors valid");
        assertArrayEquals(first, Files.readAllBytes(key));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        assertNull(CursorSeal.load(elsewhere).scoped("events").unseal(token), "another data directory's key");
    }

    @Test
    void widenedPermissionsAreRestrictedAgainAndABrokenKeyIsReplaced() throws Exception {
        String token = CursorSeal.load(dir).scoped("events").seal("x");
        Path key = dir.resolve(CursorSeal.KEY_FILE);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals("x", CursorSeal.load(dir).scoped("events").unseal(token));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        Files.write(key, new byte[5]);
        CursorSeal replaced = CursorSeal.load(dir);
        assertNull(replaced.scoped("events").unseal(token), "cursors of the lost key are refused");
        assertEquals(CursorSeal.KEY_BYTES, Files.size(key));
        assertNotEquals(0, Files.readAllBytes(key)[0] | Files.readAllBytes(key)[1] | Files.readAllBytes(key)[2]);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals(
                "y",
                CursorSeal.load(dir)
                        .scoped("events")
                        .unseal(replaced.scoped("events").seal("y")));
    }
}
