package dev.outpost.edge.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A test's SSE client over the JDK's HttpClient: messages parsed as the WHATWG spec says, read on their own thread. */
final class SseSubscriber implements AutoCloseable {
    /** One message: its id (or null), event name, data, and any comment lines before it. */
    record Message(String id, String event, String data, List<String> comments) {}

    private final HttpResponse<Stream<String>> response;
    private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private final Thread reader;

    private SseSubscriber(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = Thread.ofVirtual().start(this::read);
    }

    /** Opens {@code path}; {@code headers} are name, value pairs. */
    static SseSubscriber open(HttpClient http, int port, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Accept", "text/event-stream");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return new SseSubscriber(http.send(b.build(), HttpResponse.BodyHandlers.ofLines()));
    }

    int status() {
        return response.statusCode();
    }

    Map<String, List<String>> headers() {
        return response.headers().map();
    }

    private void read() {
        String id = null;
        String event = "message";
        StringBuilder data = null;
        List<String> comments = new ArrayList<>();
        try {
            for (String line : (Iterable<String>) response.body()::iterator) {
                if (line.isEmpty()) {
                    if (data != null || !comments.isEmpty()) {
                        messages.add(new Message(id, event, data == null ? null : data.toString(), comments));
                    }
                    id = null;
                    event = "message";
                    data = null;
                    comments = new ArrayList<>();
                } else if (line.startsWith(":")) {
                    comments.add(line.substring(1).strip());
                } else if (line.startsWith("id: ")) {
                    id = line.substring(4);
                } else if (line.startsWith("event: ")) {
                    event = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = data == null
                            ? new StringBuilder(line.substring(6))
                            : data.append('\n').append(line, 6, line.length());
                }
            }
        } catch (RuntimeException e) {
            // the connection ended
        }
        messages.add(new Message(null, "closed", null, List.of()));
    }

    /** The next message, waiting up to {@code max}; fails the test if none comes. */
    Message next(Duration max) throws InterruptedException {
        Message m = messages.poll(max.toMillis(), TimeUnit.MILLISECONDS);
        if (m == null) {
            throw new AssertionError("no SSE message within " + max);
        }
        return m;
    }

    /** The next message that is not a heartbeat. */
    Message nextEvent(Duration max) throws InterruptedException {
        Message m;
        do {
            m = next(max);
        } while (m.data() == null && !m.event().equals("closed"));
        return m;
    }

    @Override
    public void close() {
        response.body().close();
        reader.interrupt();
    }
}
