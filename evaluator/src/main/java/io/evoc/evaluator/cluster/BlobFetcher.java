package io.evoc.evaluator.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fetches blobs (models, scoring batches, students) from the node that serves them, by SHA-256,
 * checks each against its name, and keeps the most recent few in memory: a job's model and batch
 * are fetched once, its student once per commit.
 */
final class BlobFetcher {
  private static final int KEEP = 8;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final String token;
  private final Map<String, byte[]> recent = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
      return size() > KEEP;
    }
  };

  BlobFetcher(String token) {
    this.token = token;
  }

  byte[] get(String baseUrl, String sha256) throws IOException {
    byte[] cached = recent.get(sha256);
    if (cached != null) {
      return cached;
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/blobs/" + sha256))
        .timeout(Duration.ofMinutes(5)).GET();
    if (token != null && !token.isEmpty()) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<byte[]> r;
    try {
      r = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching blob " + sha256, e);
    }
    if (r.statusCode() != 200) {
      throw new IOException("blob " + sha256 + " from " + baseUrl + ": HTTP " + r.statusCode());
    }
    String got = sha256(r.body());
    if (!got.equals(sha256)) {
      throw new IOException("blob " + sha256 + " from " + baseUrl + " arrived with SHA-256 " + got);
    }
    recent.put(sha256, r.body());
    return r.body();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
