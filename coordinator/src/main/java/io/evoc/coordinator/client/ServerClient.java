package io.evoc.coordinator.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A client of evoc's HTTP API (JDK HttpClient, no other dependency): multipart job uploads
 * streamed from files, JSON answers, downloads, and a job's event WebSocket.
 */
public final class ServerClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BOUNDARY = "evoc-upload-b0undary-5e1f";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String base;
  private final String token;

  /** @param token the bearer token; null sends none */
  public ServerClient(String baseUrl, String token) {
    this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.token = token;
  }

  public record Response(int status, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> json() {
      try {
        return JSON.readValue(body, Map.class);
      } catch (IOException e) {
        // Not evoc's answer (another server on that port?): said in one line, as bad input is.
        String text = text();
        throw new IllegalArgumentException("the server answered " + status + " with no JSON object: "
            + (text.length() > 200 ? text.substring(0, 200) + "..." : text).replace('\n', ' '), e);
      }
    }

    /** The JSON error line of a 4xx or 5xx, or the body. */
    public String error() {
      try {
        Object e = json().get("error");
        return e == null ? text() : e.toString();
      } catch (IllegalArgumentException notJson) {
        return text();
      }
    }
  }

  /**
   * Polls a job until it has finished (succeeded, failed or cancelled); its last view.
   *
   * @throws IllegalStateException when it has not finished within {@code timeout}
   */
  public Map<String, Object> awaitFinished(String id, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Response r = get("/api/v1/jobs/" + id);
      if (r.status() == 404 || r.status() == 410) { // never there, or forgotten: it will not come back
        throw new IllegalStateException("job " + id + ": " + r.error());
      }
      // No state: an error answer, such as a 503 while the coordinator moves to another node.
      Map<String, Object> job = r.status() == 200 ? r.json() : Map.of("status", r.status(), "error", r.error());
      String state = String.valueOf(job.get("state"));
      if (state.equals("succeeded") || state.equals("failed") || state.equals("cancelled")) {
        return job;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job " + id + " still " + state + " after " + timeout + ": " + job);
      }
      Thread.sleep(250);
    }
  }

  /**
   * Waits until the work queue knows at least {@code count} evaluators.
   *
   * @throws IllegalStateException when fewer have registered within {@code timeout}
   */
  public void awaitEvaluators(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (evaluators() < count) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(count + " evaluators did not register within " + timeout);
      }
      Thread.sleep(200);
    }
  }

  /** The evaluators the work queue knows; 0 while the API answers with an error. */
  private int evaluators() {
    Response r = get("/api/v1/cluster");
    return r.status() == 200 ? ((List<?>) r.json().get("evaluators")).size() : 0;
  }

  public Response get(String path) {
    return send(request(path).GET(), HttpResponse.BodyHandlers.ofByteArray());
  }

  public Response delete(String path) {
    return send(request(path).DELETE(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /**
   * Downloads to a file when the answer is 200; the answer (its body, for any other status: the
   * file is then untouched). Folders missing on the way to the file are made.
   */
  public Response download(String path, Path file) {
    // Into a temporary file beside it, moved into place on success: an error's body, or half a
    // download, never takes the file's name (nor replaces what was there).
    Path dir = file.toAbsolutePath().getParent();
    Path tmp;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + file.getFileName(), ".part");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write in " + dir + ": " + e.getMessage(), e);
    }
    try {
      Response r = send(request(path).GET(), info -> info.statusCode() == 200
          ? HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofFile(tmp), written -> new byte[0])
          : HttpResponse.BodySubscribers.ofByteArray());
      if (r.status() == 200) {
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // a stray .part file; the download's outcome stands
      }
    }
  }

  /**
   * Posts a job.
   *
   * @param parts part name to a {@link Path} (streamed from the file) or to text (the settings JSON)
   */
  public Response submit(Map<String, Object> parts) {
    List<HttpRequest.BodyPublisher> body = new ArrayList<>();
    for (Map.Entry<String, Object> p : parts.entrySet()) {
      boolean file = p.getValue() instanceof Path;
      body.add(HttpRequest.BodyPublishers.ofString("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\""
          + p.getKey() + "\"" + (file ? "; filename=\"" + ((Path) p.getValue()).getFileName() + "\"" : "")
          + "\r\nContent-Type: " + (file ? "application/octet-stream" : "application/json") + "\r\n\r\n"));
      try {
        body.add(file ? HttpRequest.BodyPublishers.ofFile((Path) p.getValue())
            : HttpRequest.BodyPublishers.ofString(p.getValue().toString()));
      } catch (java.io.FileNotFoundException e) {
        throw new IllegalArgumentException(p.getValue() + ": no such file");
      }
      body.add(HttpRequest.BodyPublishers.ofString("\r\n"));
    }
    body.add(HttpRequest.BodyPublishers.ofString("--" + BOUNDARY + "--\r\n"));
    try {
      return send(request("/api/v1/jobs").header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
          .POST(HttpRequest.BodyPublishers.concat(body.toArray(HttpRequest.BodyPublisher[]::new))),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (UncheckedIOException e) {
      // A request refused before its body is read (a wrong token, no coordinator) is answered at
      // once and the connection closed; the answer can be lost to the reset of the upload still in
      // flight, and JDK 17's client hangs on Expect: 100-continue. The job list, without a body,
      // gets the same refusal.
      if (e.getCause() instanceof java.net.ConnectException || e.getCause() instanceof java.net.http.HttpTimeoutException) {
        throw e;
      }
      Response again = get("/api/v1/jobs");
      if (again.status() >= 400) {
        return again;
      }
      String why = e.getCause().getMessage();
      throw new UncheckedIOException("the server closed the connection during the upload (as it does to a request"
          + " over its evoc.limits.request-bytes): " + (why != null ? why : e.getCause().getClass().getSimpleName()),
          e.getCause());
    }
  }

  /**
   * Streams a job's events to {@code onEvent} until the server closes the socket.
   *
   * @return completes when the socket closes; fails when the upgrade is refused (401, 404)
   */
  public CompletableFuture<Void> events(String id, Consumer<Map<String, Object>> onEvent) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    StringBuilder partial = new StringBuilder();
    WebSocket.Builder b = http.newWebSocketBuilder();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.buildAsync(URI.create(base.replaceFirst("^http", "ws") + "/api/v1/jobs/" + id + "/events"),
        new WebSocket.Listener() {
          @Override
          @SuppressWarnings("unchecked")
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              try {
                onEvent.accept(JSON.readValue(partial.toString(), LinkedHashMap.class));
              } catch (IOException e) {
                done.completeExceptionally(e);
                ws.abort();
                return null;
              }
              partial.setLength(0);
            }
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            done.complete(null);
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            done.completeExceptionally(error);
          }
        }).whenComplete((ws, failure) -> {
          if (failure != null) {
            done.completeExceptionally(failure);
          }
        });
    return done;
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(10));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return r;
  }

  private <T> Response send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler) {
    try {
      HttpResponse<T> r = http.send(request.build(), handler);
      return new Response(r.statusCode(), r.body() instanceof byte[] bytes ? bytes : new byte[0]);
    } catch (IOException e) {
      // A download's file that cannot be written (a full disk) is not the server's fault.
      java.nio.file.FileSystemException local = e.getCause() instanceof java.nio.file.FileSystemException c ? c
          : e instanceof java.nio.file.FileSystemException self ? self : null;
      if (local != null) {
        throw new UncheckedIOException("cannot write " + local.getFile() + ": " + local.getReason(), e);
      }
      throw new UncheckedIOException("cannot reach " + base + ": " + (e.getMessage() != null ? e.getMessage()
          : e instanceof java.net.ConnectException ? "connection refused" : e.getClass().getSimpleName()), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
