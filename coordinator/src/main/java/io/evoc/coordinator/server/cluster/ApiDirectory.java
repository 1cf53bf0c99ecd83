package io.evoc.coordinator.server.cluster;

import io.evoc.protocol.cluster.ApiAddress;
import io.evoc.protocol.cluster.ApiAddressRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Where the coordinator's HTTP API is: an actor on the coordinator node, registered with the
 * Receptionist, that answers with its URL; and the lookup that nodes without the coordinator role
 * use to forward the job API there.
 */
public final class ApiDirectory {
  public static final ServiceKey<ApiAddressRequest> KEY = ServiceKey.create(ApiAddressRequest.class, "evoc-api");
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private ApiDirectory() {}

  /** The directory of a coordinator whose API is at {@code url}. */
  public static Behavior<ApiAddressRequest> create(String url) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      ApiAddress address = ApiAddress.newBuilder().setUrl(url).build();
      return Behaviors.receive(ApiAddressRequest.class).onMessage(ApiAddressRequest.class, r -> {
        resolver.<ApiAddress>resolveActorRef(r.getReplyTo()).tell(address);
        return Behaviors.same();
      }).build();
    });
  }

  /** The coordinator's API URL, as its directory answers; fails when the cluster has no coordinator. */
  public static CompletionStage<String> coordinatorUrl(ActorSystem<?> system) {
    ActorRefResolver resolver = ActorRefResolver.get(system);
    CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
        (ActorRef<Receptionist.Listing> reply) -> Receptionist.find(KEY, reply), TIMEOUT, system.scheduler());
    return listing.thenCompose(l -> {
      var directories = l.getServiceInstances(KEY);
      if (directories.isEmpty()) {
        return CompletableFuture.failedFuture(new IllegalStateException("no coordinator in the cluster"));
      }
      // All are asked, the first answer wins: a coordinator that just died may still be listed.
      CompletableFuture<String> first = new CompletableFuture<>();
      java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(directories.size());
      for (ActorRef<ApiAddressRequest> directory : directories) {
        AskPattern.ask(directory, (ActorRef<ApiAddress> reply) -> ApiAddressRequest.newBuilder()
            .setReplyTo(resolver.toSerializationFormat(reply)).build(), TIMEOUT, system.scheduler())
            .whenComplete((address, failure) -> {
              if (failure == null) {
                first.complete(address.getUrl());
              } else if (left.decrementAndGet() == 0) {
                first.completeExceptionally(failure);
              }
            });
      }
      return first;
    });
  }
}
