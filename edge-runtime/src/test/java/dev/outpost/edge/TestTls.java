package dev.outpost.edge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A key store and its certificate made with the JDK's own keytool (EC P-256, CN=localhost, SAN
 * localhost and 127.0.0.1), as an operator would make them.
 *
 * @param keyStore the PKCS12 key store
 * @param password its password (and its key's)
 * @param pem the certificate, PEM
 */
public record TestTls(Path keyStore, String password, Path pem) {

    /** Makes a key store {@code <name>.p12} and its certificate {@code <name>.pem} in {@code dir}. */
    public static TestTls create(Path dir, String name) throws IOException, InterruptedException {
        return create(dir, name, "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1");
    }

    /** As {@link #create(Path, String)}, for another subject and subject alternative names. */
    public static TestTls create(Path dir, String name, String dname, String san)
            throws IOException, InterruptedException {
        Path ks = dir.resolve(name + ".p12");
        Path pem = dir.resolve(name + ".pem");
        String pw = "changeit-" + name;
        keytool(
                "-genkeypair",
                "-alias",
                "outpost",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-storetype",
                "PKCS12",
                "-keystore",
                ks.toString(),
                "-storepass",
                pw,
                "-keypass",
                pw,
                "-dname",
                dname,
                "-ext",
                san,
                "-validity",
                "30");
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "outpost",
                "-keystore",
                ks.toString(),
                "-storepass",
                pw,
                "-file",
                pem.toString());
        return new TestTls(ks, pw, pem);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(keytool.toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }

    /** A client context that trusts only this certificate. */
    public SSLContext clientContext() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            trust.setCertificateEntry(
                    "hub", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
