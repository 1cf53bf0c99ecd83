package io.evoc.evaluator.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The client side of the blob route ({@code GET /api/v1/blobs/{sha256}}): the request with its
 * token, the status, and the SHA-256 of what arrived checked against the name asked for. Evaluators
 * fetch into memory, blob stores into a file; both come through here.
 */
public final class BlobRoute {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private BlobRoute() {}

  /** The SHA-256 of what a body handler produced. */
  public interface Hash<T> {
    String of(T body) throws IOException;
  }

  /**
   * @param what how errors name the blob besides its SHA-256 (its file name); empty for none
   * @param token the bearer token; null or empty for none
   * @throws IOException when the server refuses, or the bytes are not the blob's
   */
  public static <T> T get(String baseUrl, String sha256, String what, String token, Duration timeout,
      HttpResponse.BodyHandler<T> body, Hash<T> hash) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/blobs/" + sha256))
        .timeout(timeout).GET();
    if (token != null && !token.isEmpty()) {
      request.header("Authorization", "Bearer " + token);
    }
    String blob = "blob " + sha256 + (what.isEmpty() ? "" : " (" + what + ")") + " from " + baseUrl;
    HttpResponse<T> r;
    try {
      r = HTTP.send(request.build(), body);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted fetching " + blob, e);
    }
    if (r.statusCode() != 200) {
      throw new IOException(blob + ": HTTP " + r.statusCode());
    }
    String got = hash.of(r.body());
    if (!got.equals(sha256)) {
      throw new IOException(blob + " arrived with SHA-256 " + got);
    }
    return r.body();
  }

  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  public static String sha256(Path file) throws IOException {
    try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file), digest())) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(in.getMessageDigest().digest());
    }
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
