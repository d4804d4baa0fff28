package dev.outpost.edge.status;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium driven through its own chromedriver (packages {@code chromium} and
 * {@code chromium-driver}, which .ci/browser installs: CI first, or this class when they are missing). Nothing is
 * downloaded: both executables are named, so Selenium Manager never runs. A missing browser is a test failure saying what to install, never a skip, so CI cannot pass
 * without having looked at the page.
 */
final class HeadlessChromium implements AutoCloseable {
    /** Where Debian puts them; the system properties override for other systems. */
    static final String BROWSER = System.getProperty("outpost.test.chromium", "/usr/bin/chromium");

    static final String DRIVER = System.getProperty("outpost.test.chromedriver", "/usr/bin/chromedriver");

    final ChromeDriver driver;
    private final ChromeDriverService service;

    HeadlessChromium() {
        installIfMissing();
        for (String exe : List.of(BROWSER, DRIVER)) {
            if (!Files.isExecutable(Path.of(exe))) {
                throw new AssertionError(exe + " is missing: the status page's browser test needs Debian's chromium"
                        + " and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run installs them),"
                        + " or -Doutpost.test.chromium=... -Doutpost.test.chromedriver=...");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER);
        options.addArguments(
                "--headless=new",
                "--no-sandbox", // CI runs as root, where Chromium's sandbox refuses to start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking", // no request leaves the machine: the page must not need one
                "--window-size=1280,1800");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        this.service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(DRIVER).toFile())
                .usingAnyFreePort()
                .build();
        this.driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
    }

    /**
     * With Debian's default paths and either executable missing, runs the project's installer (.ci/browser: apt, as
     * root or with sudo), so the README's test command works on a fresh machine; its failure is reported below.
     */
    private static synchronized void installIfMissing() {
        boolean defaults = BROWSER.equals("/usr/bin/chromium") && DRIVER.equals("/usr/bin/chromedriver");
        if (!defaults || (Files.isExecutable(Path.of(BROWSER)) && Files.isExecutable(Path.of(DRIVER)))) {
            return;
        }
        Path installer = Path.of("..", ".ci", "browser").toAbsolutePath().normalize();
        try {
            Process p = new ProcessBuilder(installer.toString()).inheritIO().start();
            p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES);
        } catch (java.io.IOException e) {
            // reported by the check that follows
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The console messages since the last call, at SEVERE (errors, CSP violations, failed requests). */
    List<String> consoleErrors() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::toString)
                .toList();
    }

    /** Saves what the browser shows as a PNG under target/. */
    Path screenshot(String name) throws IOException {
        Path dir = Path.of("target", "status-page");
        Files.createDirectories(dir);
        Path file = dir.resolve(name + ".png");
        Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        return file;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
