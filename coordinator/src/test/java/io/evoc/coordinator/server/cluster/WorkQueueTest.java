package io.evoc.coordinator.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.evoc.protocol.cluster.EvaluatorMessage;
import io.evoc.protocol.cluster.WorkRequest;
import io.evoc.protocol.cluster.WorkResult;
import io.evoc.protocol.cluster.WorkUnit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The work queue's retries, with evaluators that are real (local) actors receiving the units; the
 * test answers for them, as their nodes would.
 */
class WorkQueueTest {
  private final Map<String, ActorSystem<EvaluatorMessage>> systems = new HashMap<>();
  private final Map<String, BlockingQueue<WorkUnit>> inboxes = new HashMap<>();
  private final WorkQueue queue = new WorkQueue(Duration.ofSeconds(60), name -> systems.get(name));

  @AfterEach
  void stop() {
    systems.values().forEach(ActorSystem::terminate);
  }

  /** An evaluator named {@code name} that asks for {@code credit} units. */
  private void evaluator(String name, int credit) {
    BlockingQueue<WorkUnit> inbox = new LinkedBlockingQueue<>();
    inboxes.put(name, inbox);
    systems.put(name, ActorSystem.create(Behaviors.receive(EvaluatorMessage.class)
        .onMessage(EvaluatorMessage.class, m -> {
          inbox.add(m.getUnit());
          return Behaviors.same();
        }).build(), "evaluator-" + name, ConfigFactory.parseString("pekko.actor.provider = local")
        .withFallback(ConfigFactory.load())));
    ask(name, credit);
  }

  private void ask(String name, int credit) {
    queue.request(WorkRequest.newBuilder().setEvaluator(name).setCapacity(credit).setDevice("cpu").build());
  }

  /** The next unit {@code name} receives, or null when none comes within a short while. */
  private WorkUnit next(String name) throws InterruptedException {
    return inboxes.get(name).poll(200, TimeUnit.MILLISECONDS);
  }

  /** The unit {@code name} must receive next: waited for as long as a loaded machine may take. */
  private WorkUnit expected(String name) throws InterruptedException {
    WorkUnit unit = inboxes.get(name).poll(10, TimeUnit.SECONDS);
    assertThat(unit).as("a unit for " + name).isNotNull();
    return unit;
  }

  /** Answers the unit for {@code name}, with a score or an error, and asks for one more. */
  private void answer(String name, WorkUnit unit, String error) {
    WorkResult.Builder r = WorkResult.newBuilder().setUnitId(unit.getUnitId()).setEvaluator(name);
    queue.result(error == null ? r.addDivergence(0.5f).build() : r.setError(error).build());
    ask(name, 1);
  }

  private List<CompletableFuture<WorkResult>> submit(int units) {
    List<WorkUnit> batch = new ArrayList<>();
    for (int i = 0; i < units; i++) {
      batch.add(WorkUnit.newBuilder().setUnitId(queue.nextId("job")).setLayer("fc1").build());
    }
    return queue.submit(batch);
  }

  @Test
  void aUnitThatFailedOnOneEvaluatorGoesToAnother() throws Exception {
    evaluator("a", 2);
    evaluator("b", 1);
    CompletableFuture<WorkResult> result = submit(1).get(0);
    WorkUnit unit = expected("a"); // the evaluator with the most credit
    answer("a", unit, "out of memory");
    // a has more credit than b, but failed on the unit.
    assertThat(next("a")).isNull();
    WorkUnit again = expected("b");
    assertThat(again.getUnitId()).isEqualTo(unit.getUnitId());
    answer("b", again, null);
    assertThat(result.get(5, TimeUnit.SECONDS).getDivergence(0)).isEqualTo(0.5f);
  }

  @Test
  void aBrokenEvaluatorSlowsJobsDownInsteadOfFailingThem() throws Exception {
    evaluator("a", 2);
    evaluator("b", 2);
    List<CompletableFuture<WorkResult>> results = submit(12);
    int toBroken = 0;
    while (!results.stream().allMatch(CompletableFuture::isDone)) {
      WorkUnit u = next("a");
      if (u != null) {
        toBroken++;
        answer("a", u, "cannot fetch blob 1f2e: 401 Unauthorized");
      }
      u = next("b");
      if (u != null) {
        answer("b", u, null);
      }
    }
    for (CompletableFuture<WorkResult> r : results) {
      assertThat(r.get().getEvaluator()).isEqualTo("b");
    }
    // Its first units, and those in flight when it became failing; none after.
    assertThat(toBroken).isBetween(WorkQueue.FAILING_AFTER, WorkQueue.FAILING_AFTER + 2);
    WorkQueue.EvaluatorView broken = queue.evaluators().stream().filter(e -> e.ref().equals("a")).findFirst()
        .orElseThrow();
    assertThat(broken.failing()).isTrue();
    assertThat(broken.lastError()).contains("401");
    assertThat(queue.takeWarnings()).singleElement().asString()
        .contains("evaluator a (cpu) failed 3 units in a row", "401 Unauthorized");
  }

  @Test
  void aUnitFailingEverywhereFailsItsJob() throws Exception {
    evaluator("a", 2);
    CompletableFuture<WorkResult> result = submit(1).get(0);
    for (int i = 0; i < WorkQueue.ATTEMPTS; i++) {
      answer("a", expected("a"), "boom " + i);
    }
    assertThatThrownBy(() -> result.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasMessageContaining("failed 3 times, on 1 evaluator; last: boom 2");
    assertThat(queue.depth()).isZero();
  }

  @Test
  void unitsLostWithTheirEvaluatorDoNotCountAsFailures() throws Exception {
    evaluator("a", 1);
    CompletableFuture<WorkResult> result = submit(1).get(0);
    for (int i = 0; i < WorkQueue.ATTEMPTS - 1; i++) {
      answer("a", expected("a"), "boom");
    }
    // It leaves with the unit, twice, and comes back: the unit's two failures stay two.
    for (int i = 0; i < 2; i++) {
      expected("a");
      queue.registered(Set.of("a"));
      queue.registered(Set.of());
      assertThat(result).isNotDone();
      ask("a", 1);
    }
    answer("a", expected("a"), null);
    assertThat(result.get(5, TimeUnit.SECONDS).getDivergenceCount()).isEqualTo(1);
  }

  @Test
  void metricsNameAnEvaluatorByItsNodeAndIndexNotItsUid() {
    assertThat(WorkQueue.label("pekko://evoc@10.0.0.5:2552/system/evaluators/1#-1234567")).isEqualTo("10.0.0.5:2552/1");
    assertThat(WorkQueue.label("pekko://evoc@10.0.0.5:2552/system/evaluators/0#99"))
        .isEqualTo(WorkQueue.label("pekko://evoc@10.0.0.5:2552/system/evaluators/0#-7"));
  }
}
