package io.evoc.coordinator.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.Coordinator;
import io.evoc.coordinator.server.ServerMetrics;
import io.evoc.coordinator.server.cluster.ApiDirectory;
import io.evoc.coordinator.server.cluster.WorkQueue;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import io.evoc.coordinator.server.jobs.JobManager;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.headers.ContentDisposition;
import org.apache.pekko.http.javadsl.model.headers.ContentDispositionTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;

/**
 * The HTTP API: {@code /health}, {@code /ready}, and under {@code /api/v1} (bearer token required)
 * jobs to submit, list, show, cancel and download from. Answers are JSON; errors are JSON objects
 * with one {@code error} line and a 4xx status.
 */
public final class ApiRoutes extends AllDirectives {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ContentType OCTETS = ContentTypes.APPLICATION_OCTET_STREAM;
  private static final ContentType PROMETHEUS_TEXT = ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");
  /** How often a WebSocket asks for new entries of a running job. */
  private static final Duration FEED_POLL = Duration.ofMillis(200);

  private final ActorSystem<?> system;
  /** Whether this node may host the coordinator (it has the role). */
  private final boolean coordinatorRole;
  /** The coordinator while it runs on this node; elsewhere, the job API is forwarded to it. */
  private final Coordinator.Here here;
  private final BlobStore blobs;
  private final ServerMetrics metrics;
  private final byte[] token;
  private final Uploads uploads;

  public ApiRoutes(ActorSystem<?> system, boolean coordinatorRole, Coordinator.Here here, BlobStore blobs,
      ServerMetrics metrics, String token, Executor blocking, long partBytes) {
    this.system = system;
    this.coordinatorRole = coordinatorRole;
    this.here = here;
    this.blobs = blobs;
    this.metrics = metrics;
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.uploads = new Uploads(blobs, Materializer.matFromSystem(system), blocking, partBytes);
  }

  public Route routes() {
    // Pekko's own answers (404 for an unknown path, 405 with Allow, 415 naming the content type
    // expected) with their status and headers, but their one line as JSON like every other error.
    return handleExceptions(ExceptionHandler.newBuilder().matchAny(this::error).build(), () -> handleRejections(
        RejectionHandler.defaultHandler().mapRejectionResponse(ApiRoutes::asJsonError), this::endpoints));
  }

  private Route endpoints() {
    return concat(
        path("health", () -> get(() -> json(200, Map.of("status", "ok")))),
        path("metrics", () -> get(() -> complete(HttpResponse.create().withEntity(HttpEntities.create(
            PROMETHEUS_TEXT, metrics.scrape().getBytes(StandardCharsets.UTF_8)))))),
        path("ready", () -> get(this::ready)),
        pathPrefix("api", () -> pathPrefix("v1", () -> authorized(() -> concat(
            // Decided per request: the coordinator may move here, or away, at any time.
            pathPrefix("jobs", () -> extractRequestContext(ctx -> here.jobs() == null
                ? forwardToCoordinator(() -> json(503, Map.of("error", "the coordinator does not run on this node,"
                    + " and no coordinator is in the cluster (yet)")))
                : jobRoutes())),
            path(PathMatchers.segment("blobs").slash(PathMatchers.segment()), this::blob),
            // The evaluators and their throughput are the work queue's, which lives with the coordinator.
            path("cluster", () -> get(() -> extractRequestContext(ctx -> here.queue() == null
                ? forwardToCoordinator(this::cluster) : cluster()))))))));
  }

  /** A plain-text rejection response with its text as the JSON error; others unchanged. */
  private static HttpResponse asJsonError(HttpResponse response) {
    if (!(response.entity() instanceof HttpEntity.Strict strict)
        || !strict.getContentType().mediaType().equals(MediaTypes.TEXT_PLAIN)) {
      return response;
    }
    return response.withEntity(jsonEntity(Map.of("error", strict.getData().utf8String().replace('\n', ' '))));
  }

  /**
   * On a node where the coordinator does not run, the job and cluster API are the coordinator's:
   * requests are passed to its HTTP address (which its {@link ApiDirectory} tells), uploads streamed
   * through, and a job's event WebSocket relayed message by message. The token was checked here; it
   * goes along. Without a coordinator in the cluster, {@code orElse} answers.
   */
  private Route forwardToCoordinator(Supplier<Route> orElse) {
    return extractRequest(request -> onComplete(ApiDirectory.coordinatorUrl(system), url -> {
      if (url.isFailure()) {
        return orElse.get();
      }
      String target = url.get() + request.getUri().getPathString()
          + request.getUri().rawQueryString().map(q -> "?" + q).orElse("");
      HttpHeader authorization = request.getHeader("Authorization").orElseThrow();
      return concat(
          // Once upgraded, a relay can only close: the job is looked up first, so that an unknown
          // one is a 404 here as on the coordinator.
          pathPrefix(PathMatchers.segment(), id -> path("events", () -> onComplete(
              Http.get(system).singleRequest(HttpRequest.GET(url.get() + request.getUri().getPathString()
                  .replaceFirst("/events$", "")).addHeader(authorization)),
              job -> {
                if (job.isSuccess()) {
                  job.get().discardEntityBytes(system);
                }
                int status = job.isSuccess() ? job.get().status().intValue() : 0;
                return status == 404 || status == 410 ? missing(id, status == 410)
                    : handleWebSocketMessages(Http.get(system).webSocketClientFlow(
                        WebSocketRequest.create(target.replaceFirst("^http", "ws")).addHeader(authorization)));
              }))),
          completeWithFuture(Http.get(system).singleRequest(request.withUri(Uri.create(target))
              .removeHeader("Timeout-Access").removeHeader("Host"))));
    }));
  }

  /**
   * Ready: a member of the cluster; where the coordinator runs, its job journal replayed; on another
   * node with the coordinator role, a coordinator found elsewhere (a standby serves the job API by
   * forwarding it).
   */
  private Route ready() {
    boolean up = Cluster.get(system).selfMember().status() == MemberStatus.up();
    if (!up) {
      return json(503, Map.of("status", "joining the cluster"));
    }
    if (here.jobs() != null) {
      return onComplete(ask(JobManager.ListJobs::new), listed -> listed.isSuccess()
          ? json(200, Map.of("status", "ready", "jobs", listed.get().size()))
          : json(503, Map.of("status", "recovering")));
    }
    if (!coordinatorRole) {
      return json(200, Map.of("status", "ready"));
    }
    return onComplete(ApiDirectory.coordinatorUrl(system), url -> url.isSuccess()
        ? json(200, Map.of("status", "ready", "coordinator", url.get()))
        : json(503, Map.of("status", "waiting for the coordinator")));
  }

  /** A blob by its SHA-256: how evaluators fetch models, scoring batches and students. */
  private Route blob(String sha256) {
    java.nio.file.Path file = blobs.served(sha256);
    return file == null ? json(404, Map.of("error", "no blob " + sha256)) : getFromFile(file.toFile(), OCTETS);
  }

  /** Members with their roles and status; the evaluators the work queue knows, with their throughput. */
  private Route cluster() {
    List<Map<String, Object>> members = new java.util.ArrayList<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      members.add(Map.of("address", m.address().toString(), "roles", new java.util.TreeSet<>(m.getRoles()),
          "status", m.status().toString()));
    }
    List<Map<String, Object>> evaluators = new java.util.ArrayList<>();
    WorkQueue queue = here.queue();
    if (queue != null) {
      for (WorkQueue.EvaluatorView e : queue.evaluators()) {
        evaluators.add(Map.of("evaluator", e.ref(), "device", e.device(), "numerics", e.numerics(),
            "candidates_scored", e.candidatesScored(),
            "candidates_per_second", Math.round(e.candidatesPerSecond() * 10) / 10.0,
            "recent_candidates_per_second", Math.round(e.recentPerSecond() * 10) / 10.0, "last_seen_ms",
            e.lastSeenMillis(), "failing", e.failing(), "last_error", e.lastError()));
      }
    }
    return json(200, Map.of("self", Cluster.get(system).selfMember().address().toString(), "members", members,
        "evaluators", evaluators, "work_queue_depth", queue == null ? 0 : queue.depth()));
  }

  private Route jobRoutes() {
    return concat(
        pathEnd(() -> concat(post(this::submit), get(this::list))),
        pathPrefix(PathMatchers.segment(), this::jobRoutes));
  }

  private Route jobRoutes(String id) {
    return concat(
        pathEnd(() -> concat(get(() -> show(id)), delete(() -> cancel(id)))),
        path("artifact", () -> get(() -> download(id, JobEvent.Succeeded::getArtifact, OCTETS))),
        path("model.onnx", () -> get(() -> download(id, JobEvent.Succeeded::getDecompressed, OCTETS))),
        path("report", () -> get(() -> download(id, JobEvent.Succeeded::getReport, ContentTypes.APPLICATION_JSON))),
        path("events", () -> get(() -> events(id))));
  }

  /**
   * The job's feed over a WebSocket: its history first, then every generation, commit and phase
   * change as it comes; closed once the job has finished and everything was sent. Messages from
   * the client are ignored.
   */
  private Route events(String id) {
    return onSuccess(this.<JobManager.FeedReply>ask(reply -> new JobManager.Feed(id, Integer.MAX_VALUE - 1, reply)),
        probe -> !probe.known() ? notFound(id) : handleWebSocketMessages(Flow.fromSinkAndSource(Sink.ignore(),
            feed(id).map(entry -> (Message) TextMessage.create(JSON.writeValueAsString(entry))))));
  }

  /** Polls the job book for entries after the last one sent: in order, none missed, none twice. */
  private Source<Map<String, Object>, NotUsed> feed(String id) {
    return Source.unfoldAsync(-1, (Integer after) -> this.<JobManager.FeedReply>ask(
        reply -> new JobManager.Feed(id, after, reply)).thenCompose(r -> {
          if (!r.entries().isEmpty()) {
            int last = (Integer) r.entries().get(r.entries().size() - 1).get("seq");
            return CompletableFuture.completedFuture(Optional.of(Pair.create(last, r.entries())));
          }
          if (r.finished() || !r.known()) {
            return CompletableFuture.completedFuture(Optional.<Pair<Integer, List<Map<String, Object>>>>empty());
          }
          return Patterns.after(FEED_POLL, system.classicSystem().scheduler(), system.executionContext(),
              () -> CompletableFuture.completedFuture(Optional.of(Pair.create(after,
                  List.<Map<String, Object>>of()))));
        })).mapConcat(entries -> entries);
  }

  /** Every /api route: the bearer token, compared in constant time, or 401. */
  private Route authorized(Supplier<Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      // The scheme's name is case-insensitive (RFC 7235); the token is compared in constant time.
      String[] parts = header.orElse("").trim().split(" +", 2);
      boolean bearer = parts.length == 2 && parts[0].equalsIgnoreCase("Bearer");
      byte[] given = bearer ? parts[1].getBytes(StandardCharsets.UTF_8) : new byte[0];
      return bearer && MessageDigest.isEqual(given, token) ? inner.get()
          : respondWithHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create("WWW-Authenticate",
              "Bearer"), () -> json(401, Map.of("error", header.isEmpty() ? "missing bearer token"
                  : "wrong bearer token")));
    });
  }

  private Route submit() {
    return entity(Unmarshaller.entityToMultipartFormData(), form -> onComplete(
        uploads.receive(form).thenCompose(spec -> this.<JobManager.SubmitReply>ask(reply -> new JobManager.Submit(spec, reply))),
        done -> {
          if (done.isFailure() && cause(done.failed().get()) instanceof java.util.concurrent.TimeoutException) {
            // The coordinator may still take the job: a retry could make it twice.
            return json(503, Map.of("error", "the coordinator did not answer within " + ASK_TIMEOUT.toSeconds()
                + " s; the job may have been taken all the same: see GET /api/v1/jobs before submitting again"));
          }
          if (done.isFailure()) {
            return error(done.failed().get());
          }
          JobManager.SubmitReply r = done.get();
          return r.error() != null ? json(r.status(), Map.of("error", r.error())) : json(202, Map.of("id", r.id()));
        }));
  }

  private Route list() {
    return onSuccess(ask(JobManager.ListJobs::new), all -> json(200, Map.of("jobs", all)));
  }

  private Route show(String id) {
    return onSuccess(this.<Optional<Map<String, Object>>>ask(reply -> new JobManager.Get(id, reply)), job -> job.map(j -> json(200, j))
        .orElseGet(() -> notFound(id)));
  }

  private Route cancel(String id) {
    return onSuccess(this.<Optional<Map<String, Object>>>ask(reply -> new JobManager.Cancel(id, reply)), job -> job.map(j -> json(202, j))
        .orElseGet(() -> notFound(id)));
  }

  private Route download(String id, Function<JobEvent.Succeeded, Blob> which, ContentType type) {
    return onSuccess(ask((ActorRef<JobManager.OutputsReply> reply) -> new JobManager.Outputs(id, reply)), outputs -> {
      if (outputs.job().isEmpty()) {
        return notFound(id);
      }
      if (outputs.succeeded() == null) {
        return json(409, Map.of("error", "job " + id + " is " + outputs.job().get().get("state")
            + "; outputs exist once it has succeeded"));
      }
      Blob blob = which.apply(outputs.succeeded());
      return respondWithHeader(ContentDisposition.create(ContentDispositionTypes.ATTACHMENT,
          Map.of("filename", blob.getName())), () -> getFromFile(blobs.path(blob).toFile(),
              type));
    });
  }

  /** 410 for a job the book forgot (evoc.limits.kept-jobs), 404 for one it never had. */
  private Route notFound(String id) {
    return onSuccess(this.<Boolean>ask(reply -> new JobManager.WasForgotten(id, reply)), forgotten -> missing(id,
        forgotten));
  }

  private Route missing(String id, boolean forgotten) {
    return forgotten ? json(410, Map.of("error", "job '" + id + "' was forgotten with its outputs: the server keeps"
        + " the latest finished jobs only (evoc.limits.kept-jobs)")) : json(404, Map.of("error", "no job '" + id + "'"));
  }

  /**
   * A failed request as JSON: a refusal with its status; a coordinator that did not answer in time
   * (recovering its job book, or moving to another node) a 503; else a 500.
   */
  private Route error(Throwable failure) {
    Throwable e = cause(failure);
    if (e instanceof java.util.concurrent.TimeoutException) {
      return json(503, Map.of("error", "the coordinator did not answer within " + ASK_TIMEOUT.toSeconds()
          + " s (recovering, or moving to another node)"));
    }
    // A part's check fails inside the stream that writes it: the file sink wraps it.
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof BadRequest b) {
        return json(b.status, Map.of("error", b.getMessage()));
      }
    }
    if (e instanceof EntityStreamSizeException || e.getCause() instanceof EntityStreamSizeException) {
      return json(413, Map.of("error", "upload larger than the limit for a whole request (evoc.limits.request-bytes)"));
    }
    system.log().error("request failed", e);
    return json(500, Map.of("error", "internal error: " + e));
  }

  /** The failure itself, out of the CompletionException a later stage wraps it in. */
  private static Throwable cause(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }

  private <T> CompletionStage<T> ask(Function<ActorRef<T>, JobManager.Command> message) {
    ActorRef<JobManager.Command> jobs = here.jobs();
    if (jobs == null) {
      return CompletableFuture.failedFuture(new BadRequest(503, "the coordinator has left this node; try again"));
    }
    return AskPattern.ask(jobs, message::apply, ASK_TIMEOUT, system.scheduler());
  }

  private Route json(int status, Object body) {
    return complete(HttpResponse.create().withStatus(status).withEntity(jsonEntity(body)));
  }

  private static HttpEntity.Strict jsonEntity(Object body) {
    try {
      return HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unserializable response", e);
    }
  }
}
