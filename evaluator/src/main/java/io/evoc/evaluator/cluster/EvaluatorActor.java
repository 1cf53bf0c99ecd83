package io.evoc.evaluator.cluster;

import ai.djl.Device;
import io.evoc.evaluator.engine.Numerics;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.protocol.cluster.TopClasses;
import io.evoc.protocol.cluster.EvaluatorMessage;
import io.evoc.protocol.cluster.QueueMessage;
import io.evoc.protocol.cluster.WorkRequest;
import io.evoc.protocol.cluster.WorkResult;
import io.evoc.protocol.cluster.WorkUnit;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One evaluator: scores work units on one device. It finds the work queues through the
 * Receptionist and pulls: it asks each for {@value #IN_FLIGHT} units, and for one more each time
 * it answers one of its units, so a queue never hands an evaluator more than it can hold. It keeps a replica of
 * the job it last scored (teacher, batch, student at the committed version); a unit it cannot
 * score is answered with an error, which the queue passes on to the job.
 *
 * <p>Scoring blocks, so the actor runs on a thread of its own (evoc.evaluator-dispatcher, a pinned
 * dispatcher).
 */
public final class EvaluatorActor extends AbstractBehavior<Object> {
  /** Where the work queue registers; evaluators look it up there. */
  public static final ServiceKey<QueueMessage> QUEUE = ServiceKey.create(QueueMessage.class, "evoc-work-queue");
  /** Where evaluators register: the queue drops the units of those that leave, the API lists them. */
  public static final ServiceKey<EvaluatorMessage> EVALUATORS = ServiceKey.create(EvaluatorMessage.class,
      "evoc-evaluators");
  /** Units asked for ahead: one scoring, one waiting, so the device never idles on a round trip. */
  public static final int IN_FLIGHT = 2;

  private final Device device;
  private final String deviceName;
  /** How this device computes ({@link WorkRequest}'s numerics). */
  private final String numerics;
  private final BlobFetcher blobs;
  private final String self;
  private final ActorRefResolver resolver;
  /** Every work queue in the cluster (one per coordinator): each gets this evaluator's requests. */
  private final Set<ActorRef<QueueMessage>> queues = new HashSet<>();
  private JobReplica replica;

  public static Behavior<Object> create(Device device, String deviceName, String token) {
    return Behaviors.setup(ctx -> new EvaluatorActor(ctx, device, deviceName, token));
  }

  private EvaluatorActor(ActorContext<Object> context, Device device, String deviceName, String token) {
    super(context);
    this.device = device;
    this.deviceName = deviceName;
    this.numerics = device.isGpu() ? "cuda" : Numerics.current();
    this.blobs = new BlobFetcher(token);
    this.resolver = ActorRefResolver.get(context.getSystem());
    this.self = resolver.toSerializationFormat(context.getSelf());
    context.getSystem().receptionist().tell(Receptionist.register(EVALUATORS, context.getSelf().narrow()));
    context.spawn(ListingForwarder.create(QUEUE, context.getSelf().narrow()), "queue-listing");
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Receptionist.Listing.class, this::onListing)
        .onMessage(EvaluatorMessage.class, this::onMessage)
        .onSignal(PostStop.class, s -> {
          closeReplica();
          return this;
        })
        .build();
  }

  /** Queues that appear are asked for work; those gone are forgotten. */
  private Behavior<Object> onListing(Receptionist.Listing listing) {
    Set<ActorRef<QueueMessage>> present = listing.getServiceInstances(QUEUE);
    for (ActorRef<QueueMessage> q : present) {
      if (queues.add(q)) {
        q.tell(request(IN_FLIGHT));
      }
    }
    queues.retainAll(present);
    return this;
  }

  private Behavior<Object> onMessage(EvaluatorMessage m) {
    if (m.hasPrepare()) {
      return prepare(m.getPrepare());
    }
    if (!m.hasUnit()) {
      return this;
    }
    WorkUnit unit = m.getUnit();
    WorkResult.Builder result = WorkResult.newBuilder().setUnitId(unit.getUnitId()).setEvaluator(self);
    long start = System.nanoTime();
    try {
      if (unit.getPointsCount() > 0) {
        for (StudentScoring.Point p : replicaFor(unit).scorePoints(unit, blobs)) {
          result.addDivergence(p.divergence()).addAgreement(p.agreement())
              .addTop1(TopClasses.newBuilder().addAllClasses(java.util.Arrays.stream(p.top1()).boxed().toList()));
        }
      } else {
        Scores s = replicaFor(unit).score(unit, blobs);
        for (int i = 0; i < s.divergence().length; i++) {
          result.addDivergence(s.divergence()[i]).addAgreement(s.agreement()[i]);
        }
      }
    } catch (Exception | OutOfMemoryError e) {
      getContext().getLog().warn("unit {} failed: {}", unit.getUnitId(), e.toString());
      closeReplica();
      result.setError(e.getMessage() == null ? e.toString() : e.getMessage().replace('\n', ' '));
    }
    result.setNanos(System.nanoTime() - start);
    if (!unit.getQueue().isEmpty()) {
      ActorRef<QueueMessage> from = resolver.resolveActorRef(unit.getQueue());
      from.tell(QueueMessage.newBuilder().setResult(result).build());
      from.tell(request(1));
    }
    return this;
  }

  /**
   * Gets the student and the layer's cache ready. A failure is left for the unit that needs them to
   * meet; the replica stays, since a late preparation may name a student already superseded (and
   * deleted): nothing is wrong with the replica then.
   */
  private Behavior<Object> prepare(WorkUnit unit) {
    try {
      replicaFor(unit).prepare(unit, blobs);
    } catch (Exception e) {
      getContext().getLog().debug("preparing {} failed: {}", unit.getUnitId(), e.toString());
    }
    return this;
  }

  private JobReplica replicaFor(WorkUnit unit) throws java.io.IOException {
    if (replica == null || !replica.serves(unit.getContext())) {
      closeReplica();
      replica = new JobReplica(unit.getContext(), blobs, device);
    }
    return replica;
  }

  private QueueMessage request(int capacity) {
    return QueueMessage.newBuilder().setRequest(WorkRequest.newBuilder().setEvaluator(self).setCapacity(capacity)
        .setDevice(deviceName).setNumerics(numerics)).build();
  }

  private void closeReplica() {
    if (replica != null) {
      replica.close();
      replica = null;
    }
  }
}
