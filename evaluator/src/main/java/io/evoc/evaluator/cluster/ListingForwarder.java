package io.evoc.evaluator.cluster;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Subscribes to a service key and passes each listing to its parent. An actor that registers with
 * the cluster Receptionist must not also subscribe itself (the Receptionist watches it once per
 * role and fails on the second), so registered actors subscribe through one of these.
 */
public final class ListingForwarder {
  private ListingForwarder() {}

  public static Behavior<Receptionist.Listing> create(ServiceKey<?> key, ActorRef<? super Receptionist.Listing> to) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(key, ctx.getSelf()));
      return Behaviors.receive(Receptionist.Listing.class).onMessage(Receptionist.Listing.class, listing -> {
        to.tell(listing);
        return Behaviors.same();
      }).build();
    });
  }
}
