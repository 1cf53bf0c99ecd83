package io.evoc.coordinator.server;

import io.evoc.coordinator.server.cluster.ApiDirectory;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.coordinator.server.cluster.WorkQueueActor;
import io.evoc.coordinator.server.jobs.JobManager;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The cluster's one coordinator: the job book, the work queue and the API directory, run as a
 * Pekko cluster singleton on the oldest node with the coordinator role. When that node leaves or
 * is downed, the singleton starts on the next one: its job book replays the journal and resumes
 * the running job from its last checkpoint. For that the coordinator-role nodes must share the
 * journal (PostgreSQL) and the blob store (a shared directory); with the embedded defaults there
 * is one coordinator node, and it takes its jobs up again when it comes back.
 */
public final class Coordinator {
  public static final String ROLE = "coordinator";

  /** What this node's HTTP routes talk to while the singleton runs here; nulls while it runs elsewhere. */
  public static final class Here {
    private volatile ActorRef<JobManager.Command> jobs;
    private volatile WorkQueue queue;

    /** The job book, or null: the coordinator is on another node (or on none yet). */
    public ActorRef<JobManager.Command> jobs() {
      return jobs;
    }

    public WorkQueue queue() {
      return queue;
    }
  }

  /** What a coordinator needs of its node. */
  public record Settings(BlobStore blobs, Path workRoot, JobManager.Limits limits, Duration unitTimeout,
      ServerMetrics metrics, String apiUrl, String token) {}

  private Coordinator() {}

  /** Starts this node's singleton manager: the coordinator runs here whenever this is the oldest coordinator node. */
  public static void init(ActorSystem<?> system, Settings settings, Here here) {
    ClusterSingleton.get(system).init(SingletonActor.of(create(settings, here), ROLE)
        .withSettings(ClusterSingletonSettings.create(system).withRole(ROLE)));
  }

  private static Behavior<Void> create(Settings s, Here here) {
    return Behaviors.setup(ctx -> {
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      WorkQueue queue = new WorkQueue(s.unitTimeout(), resolver::resolveActorRef);
      ctx.spawn(WorkQueueActor.create(queue, s.metrics(), ROLE), "work-queue");
      ActorRef<JobManager.Command> jobs = ctx.spawn(JobManager.create(s.blobs(), s.workRoot(), s.limits(),
          s.metrics(), queue, s.apiUrl(), s.token()), "jobs");
      // Nodes without the coordinator (any role) find its API here and forward jobs to it.
      ctx.spawn(ApiDirectory.create(s.apiUrl()), "api-directory");
      here.queue = queue;
      here.jobs = jobs;
      ctx.getLog().info("coordinating the cluster's jobs on this node");
      return Behaviors.receive(Void.class).onSignal(PostStop.class, stop -> {
        here.jobs = null;
        here.queue = null;
        return Behaviors.same();
      }).build();
    });
  }
}
