package io.evoc.evaluator.cluster;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fetches blobs (models, scoring batches, students) from the node that serves them, by SHA-256,
 * checks each against its name, and keeps the most recent few in memory: a job's model and batch
 * are fetched once, its student once per commit.
 */
final class BlobFetcher {
  private static final int KEEP = 8;
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
    byte[] bytes = BlobRoute.get(baseUrl, sha256, "", token, Duration.ofMinutes(5),
        HttpResponse.BodyHandlers.ofByteArray(), BlobRoute::sha256);
    recent.put(sha256, bytes);
    return bytes;
  }
}
