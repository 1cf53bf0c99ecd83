package io.evoc.coordinator.cli;

import io.evoc.coordinator.client.ServerClient;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Which server, and its token: the options of every command that talks to one. Inherited, so that
 * `evoc jobs --server URL list` and `evoc jobs list --server URL` mean the same.
 */
final class ServerOptions {
  @Option(names = "--server", scope = ScopeType.INHERIT, defaultValue = "http://127.0.0.1:8080", paramLabel = "URL",
      description = "The server (default ${DEFAULT-VALUE}).")
  String url;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "T", description = "The API token (default: EVOC_TOKEN).")
  String token;

  /** A client for the server; a --server that is not an HTTP URL is refused, naming it. */
  ServerClient client() {
    if (!url.matches("https?://[^/\\s]+(/\\S*)?")) {
      throw new IllegalArgumentException("--server '" + url + "': expected http://HOST:PORT");
    }
    return new ServerClient(url, token != null ? token : System.getenv("EVOC_TOKEN"));
  }
}
