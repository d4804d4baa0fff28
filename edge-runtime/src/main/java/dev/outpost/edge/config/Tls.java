package dev.outpost.edge.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Collections;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material named by the configuration: the HTTP server's PKCS12 key store ({@code
 * http.tls_key_store}) and the PEM certificates an edge trusts for its hub ({@code
 * sync.tls_trust_file}). Every problem is a {@link ConfigException} naming the key, so a bad file
 * stops startup with one clear line instead of a handshake failure later.
 */
public final class Tls {
    static final String KEY_STORE = "http.tls_key_store";
    static final String KEY_STORE_PASSWORD = "http.tls_key_store_password";
    static final String TRUST_FILE = "sync.tls_trust_file";

    private Tls() {}

    /**
     * Loads the server's key store and checks that it holds a private key with its certificate that
     * the password opens.
     */
    static void checkKeyStore(Path file, String password) {
        String at = "config error: " + KEY_STORE + " '" + file + "'";
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(
                    KEY_STORE, at + " does not exist or is not a readable file; expected a PKCS12 key store (.p12)");
        }
        char[] pw = password.toCharArray();
        KeyStore ks;
        try (InputStream in = Files.newInputStream(file)) {
            ks = KeyStore.getInstance("PKCS12");
            ks.load(in, pw);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new ConfigException(
                        KEY_STORE_PASSWORD,
                        "config error: " + KEY_STORE_PASSWORD + " does not open the key store " + file + " ("
                                + KEY_STORE + "): the password is wrong");
            }
            throw new ConfigException(KEY_STORE, at + " cannot be read as a PKCS12 key store: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new ConfigException(KEY_STORE, at + " cannot be read as a PKCS12 key store: " + e.getMessage());
        }
        try {
            boolean hasKey = false;
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias) && ks.getCertificate(alias) != null) {
                    hasKey = true;
                }
            }
            if (!hasKey) {
                throw new ConfigException(
                        KEY_STORE,
                        at + " holds no private key with its certificate (create one with keytool -genkeypair)");
            }
            // The server opens the keys with the store's password: a key with another password would
            // only fail at the first handshake.
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm())
                    .init(ks, pw);
        } catch (UnrecoverableKeyException e) {
            throw new ConfigException(
                    KEY_STORE_PASSWORD,
                    "config error: " + KEY_STORE_PASSWORD + " opens the key store " + file
                            + " but not its private key (the key needs the same password as the store)");
        } catch (GeneralSecurityException e) {
            throw new ConfigException(KEY_STORE, at + " cannot be used: " + e.getMessage());
        }
    }

    /**
     * An SSL context that trusts exactly the certificates of the PEM file (CA or self-signed), with
     * the JDK's default key managers and hostname verification left to the client (on by default in
     * {@link java.net.http.HttpClient}).
     */
    public static SSLContext trustContext(Path pemFile) {
        String at = "config error: " + TRUST_FILE + " '" + pemFile + "'";
        if (!Files.isRegularFile(pemFile) || !Files.isReadable(pemFile)) {
            throw new ConfigException(
                    TRUST_FILE,
                    at + " does not exist or is not a readable file; expected PEM certificates"
                            + " (-----BEGIN CERTIFICATE-----)");
        }
        Collection<? extends Certificate> certs;
        try (InputStream in = Files.newInputStream(pemFile)) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (IOException | CertificateException e) {
            throw new ConfigException(TRUST_FILE, at + " is not a PEM file of X.509 certificates: " + e.getMessage());
        }
        if (certs.isEmpty()) {
            throw new ConfigException(
                    TRUST_FILE, at + " holds no certificate; expected PEM (-----BEGIN CERTIFICATE-----)");
        }
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                trust.setCertificateEntry("hub-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException(TRUST_FILE, at + " cannot be used as a trust store: " + e.getMessage());
        }
    }

    /**
     * Whether {@code uri} names this machine without a DNS lookup: {@code localhost} (or a name under
     * {@code .localhost}) or a loopback address literal.
     */
    public static boolean isLoopback(URI uri) {
        String host = uri.getHost();
        if (host == null) {
            return false;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return true;
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }
}
