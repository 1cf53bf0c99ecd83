package io.evoc.coordinator.server.cluster;

import io.evoc.coordinator.server.ServerMetrics;
import io.evoc.evaluator.cluster.EvaluatorActor;
import io.evoc.evaluator.cluster.ListingForwarder;
import io.evoc.protocol.cluster.QueueMessage;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The work queue's face in the cluster: registered with the Receptionist for evaluators to find,
 * it hands their requests and results to the {@link WorkQueue}, follows which evaluators are
 * registered, and ticks the queue's timeouts.
 */
public final class WorkQueueActor {
  private static final Duration TICK = Duration.ofSeconds(1);

  private enum Tick { INSTANCE }

  private WorkQueueActor() {}

  /** @param name which of the node's queues this is in the metrics: "coordinator" or "finalizer" */
  public static Behavior<Object> create(WorkQueue queue, ServerMetrics metrics, String name) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(EvaluatorActor.QUEUE, ctx.getSelf().narrow()));
      ctx.spawn(ListingForwarder.create(EvaluatorActor.EVALUATORS, ctx.getSelf().narrow()), "evaluator-listing");
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      queue.self(resolver.toSerializationFormat(ctx.getSelf()));
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
        return Behaviors.receive(Object.class)
            .onMessage(QueueMessage.class, m -> {
              if (m.hasRequest()) {
                queue.request(m.getRequest());
              } else if (m.hasResult()) {
                metrics.scored(name, queue.result(m.getResult()));
              }
              queue.takeWarnings().forEach(w -> ctx.getLog().warn(w));
              return Behaviors.same();
            })
            .onMessage(Receptionist.Listing.class, listing -> {
              Set<String> present = listing.getServiceInstances(EvaluatorActor.EVALUATORS).stream()
                  .map(resolver::toSerializationFormat).collect(Collectors.toSet());
              queue.registered(present);
              return Behaviors.same();
            })
            .onMessage(Tick.class, t -> {
              queue.tick();
              metrics.queue(name, queue.depth(), queue.evaluators().size());
              return Behaviors.same();
            })
            .build();
      });
    });
  }
}
