package io.evoc.coordinator.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A client of the HTTP API for tests: real requests over loopback, multipart uploads built by hand. */
final class Api {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final String token;

  Api(int port, String token) {
    this.base = "http://127.0.0.1:" + port;
    this.token = token;
  }

  record Response(int status, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> json() {
      try {
        return JSON.readValue(body, Map.class);
      } catch (IOException e) {
        throw new AssertionError("not a JSON object (" + status + "): " + text(), e);
      }
    }
  }

  Response get(String path) {
    return send(request(path).GET(), token);
  }

  Response getWithToken(String path, String bearer) {
    return send(request(path).GET(), bearer);
  }

  Response delete(String path) {
    return send(request(path).DELETE(), token);
  }

  /** @param parts part name to a file, or to a String (sent as the part's text) */
  Response submit(Map<String, Object> parts) {
    String boundary = "evoc-test-boundary-7f3a";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    try {
      for (Map.Entry<String, Object> p : parts.entrySet()) {
        boolean file = p.getValue() instanceof Path;
        String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.getKey() + "\""
            + (file ? "; filename=\"" + ((Path) p.getValue()).getFileName() + "\"" : "") + "\r\nContent-Type: "
            + (file ? "application/octet-stream" : "application/json") + "\r\n\r\n";
        body.write(head.getBytes(StandardCharsets.UTF_8));
        body.write(file ? Files.readAllBytes((Path) p.getValue())
            : p.getValue().toString().getBytes(StandardCharsets.UTF_8));
        body.write("\r\n".getBytes(StandardCharsets.UTF_8));
      }
      body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return send(request("/api/v1/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())), token);
  }

  static Map<String, Object> parts(Object... nameValue) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      m.put((String) nameValue[i], nameValue[i + 1]);
    }
    return m;
  }

  /** Polls a job until it has finished; its last view. */
  Map<String, Object> awaitFinished(String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Map<String, Object> job = get("/api/v1/jobs/" + id).json();
      String state = (String) job.get("state");
      if (state.equals("succeeded") || state.equals("failed") || state.equals("cancelled")) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " still " + state + " after " + timeout + ": " + job);
      }
      Thread.sleep(250);
    }
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
  }

  private Response send(HttpRequest.Builder request, String bearer) {
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    try {
      HttpResponse<byte[]> r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
