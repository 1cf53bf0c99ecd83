package io.evoc.coordinator.server;

import io.evoc.coordinator.client.ServerClient;
import io.evoc.coordinator.client.ServerClient.Response;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** The API client as the tests use it: a server on loopback, and a few helpers. */
final class Api {
  private final int port;
  private final String token;
  private final ServerClient client;

  Api(int port, String token) {
    this.port = port;
    this.token = token;
    this.client = new ServerClient("http://127.0.0.1:" + port, token);
  }

  Response get(String path) {
    return client.get(path);
  }

  Response getWithToken(String path, String token) {
    return new ServerClient("http://127.0.0.1:" + port, token).get(path);
  }

  Response delete(String path) {
    return client.delete(path);
  }

  Response submit(Map<String, Object> parts) {
    return client.submit(parts);
  }

  static Map<String, Object> parts(Object... nameValue) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < nameValue.length; i += 2) {
      m.put((String) nameValue[i], nameValue[i + 1]);
    }
    return m;
  }

  /** Any method, with the token, and a body of this content type (none when null). */
  Response send(String method, String path, String contentType, String body) throws Exception {
    return exchange(method, path, "Bearer " + token, contentType, body);
  }

  /** A request with this Authorization header, exactly as given. */
  int statusWithAuthorization(String path, String authorization) throws Exception {
    return exchange("GET", path, authorization, null, null).status();
  }

  /** One request as given, past the client's own conventions. */
  private Response exchange(String method, String path, String authorization, String contentType, String body)
      throws Exception {
    java.net.http.HttpRequest.Builder r = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
        + port + path)).header("Authorization", authorization).method(method, body == null
            ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      r.header("Content-Type", contentType);
    }
    java.net.http.HttpResponse<byte[]> got = java.net.http.HttpClient.newHttpClient().send(r.build(),
        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
    return new Response(got.statusCode(), got.body());
  }

  /** The status of the event WebSocket's upgrade: 101 when it was accepted. */
  int eventsHandshake(String id, String token) throws Exception {
    java.net.http.WebSocket.Builder b = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder();
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      b.buildAsync(java.net.URI.create("ws://127.0.0.1:" + port + "/api/v1/jobs/" + id + "/events"),
          new java.net.http.WebSocket.Listener() {}).get(1, java.util.concurrent.TimeUnit.MINUTES).abort();
      return 101;
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) {
        return h.getResponse().statusCode();
      }
      throw e;
    }
  }

  /** Every message of the job's event WebSocket until the server closes it; null when the upgrade is refused. */
  CompletableFuture<List<Map<String, Object>>> events(String id, String token) {
    List<Map<String, Object>> messages = new CopyOnWriteArrayList<>();
    return new ServerClient("http://127.0.0.1:" + port, token).events(id, messages::add)
        .handle((done, failure) -> failure == null ? List.copyOf(messages) : null);
  }

  /** Waits until the job has persisted a checkpoint at or after {@code cycle}; returns its cycle. */
  int awaitCheckpoint(String id, int cycle) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (true) {
      Object at = get("/api/v1/jobs/" + id).json().get("checkpoint_cycle");
      if (at != null && ((Number) at).intValue() >= cycle) {
        return ((Number) at).intValue();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " did not checkpoint cycle " + cycle);
      }
      Thread.sleep(100);
    }
  }

  /** Polls a job until it has finished; its last view. */
  Map<String, Object> awaitFinished(String id, Duration timeout) throws InterruptedException {
    return client.awaitFinished(id, timeout);
  }

  /** Waits until the work queue knows at least {@code count} evaluators. */
  void awaitEvaluators(int count, Duration timeout) throws InterruptedException {
    client.awaitEvaluators(count, timeout);
  }
}
