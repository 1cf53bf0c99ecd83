package io.evoc.coordinator.server;

import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.coordinator.server.jobs.Job;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What {@code /metrics} exports, in Prometheus' text format: candidates scored, scoring latency,
 * the work queue, jobs by state, each running job's generation, best divergence and sparsity, the
 * evaluators, and the JVM's and process's own meters. The names are listed in {@link #NAMES}:
 * the dashboards and alert rules may use those and no others (a test checks).
 */
public final class ServerMetrics {
  /** Every evoc-specific series name, as Prometheus sees it. */
  public static final List<String> NAMES = List.of("evoc_candidates_scored_total", "evoc_scoring_latency_seconds",
      "evoc_work_queue_depth", "evoc_jobs", "evoc_job_generation", "evoc_job_best_divergence", "evoc_job_sparsity",
      "evoc_evaluators", "evoc_job_failures_total", "evoc_cluster_members", "evoc_work_scored_total");
  public static final List<String> JOB_STATES = java.util.Arrays.stream(Job.State.values()).map(Job.State::lowerCase)
      .toList();

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter candidates;
  private final Counter failures;
  private final Timer scoring;
  private final Map<String, AtomicLong> jobsByState = new ConcurrentHashMap<>();
  private final AtomicLong queueDepth = new AtomicLong();
  private final AtomicLong evaluators = new AtomicLong();
  /** Per running job: its gauges' values (doubles as raw long bits) and the meters to remove when it ends. */
  private final Map<String, JobGauges> jobs = new ConcurrentHashMap<>();
  private final Map<String, int[]> queues = new ConcurrentHashMap<>();

  private record JobGauges(AtomicLong generation, AtomicLong divergenceBits, AtomicLong sparsityBits,
      List<Meter> meters) {}

  public ServerMetrics() {
    // Two of Micrometer's process meters fail `promtool check metrics`' naming rules: one goes (the
    // CPU time is process_cpu_usage's business too), the other is renamed.
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")))
        .meterFilter(new MeterFilter() {
          @Override
          public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
          }
        });
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    candidates = Counter.builder("evoc.candidates.scored").description("Candidates scored, all jobs").register(registry);
    failures = Counter.builder("evoc.job.failures").description("Jobs that failed").register(registry);
    scoring = Timer.builder("evoc.scoring.latency").description("Time to score one generation's candidates")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofMinutes(2)).register(registry);
    Gauge.builder("evoc.work.queue.depth", queueDepth, AtomicLong::get)
        .description("Work units waiting for an evaluator").register(registry);
    Gauge.builder("evoc.evaluators", evaluators, AtomicLong::get).description("Evaluators pulling this node's work")
        .register(registry);
    for (String state : JOB_STATES) {
      AtomicLong n = new AtomicLong();
      jobsByState.put(state, n);
      Gauge.builder("evoc.jobs", n, AtomicLong::get).tag("state", state).description("Jobs by state")
          .register(registry);
    }
  }

  /** The cluster's members that are up, as this node sees them. */
  public void clusterMembers(java.util.function.IntSupplier up) {
    Gauge.builder("evoc.cluster.members", up, s -> s.getAsInt())
        .description("Cluster members up, as this node sees them").register(registry);
  }

  public void generation(String job, Generation g) {
    candidates.increment(g.candidates());
    scoring.record(Duration.ofNanos(g.scoringNanos()));
    JobGauges gauges = gauges(job);
    gauges.generation.incrementAndGet();
    gauges.divergenceBits.set(Double.doubleToLongBits(g.bestDivergence()));
  }

  public void commit(String job, TraceEntry e) {
    JobGauges gauges = gauges(job);
    gauges.divergenceBits.set(Double.doubleToLongBits(e.divergence()));
    gauges.sparsityBits.set(Double.doubleToLongBits(e.sparsity()));
  }

  /** A job ended: its series go. */
  public void finished(String job, boolean failed) {
    if (failed) {
      failures.increment();
    }
    JobGauges gauges = jobs.remove(job);
    if (gauges != null) {
      gauges.meters.forEach(registry::remove);
    }
  }

  public void jobs(Map<String, Long> countsByState) {
    for (String state : JOB_STATES) {
      jobsByState.get(state).set(countsByState.getOrDefault(state, 0L));
    }
  }

  /** An answer a work queue took: candidates or points scored by one evaluator. */
  public void scored(String queue, WorkQueue.Scored s) {
    if (s.count() > 0) {
      Counter.builder("evoc.work.scored").tag("queue", queue).tag("evaluator", s.evaluator()).tag("device", s.device())
          .description("Candidates and points scored, by work queue (coordinator, finalizer) and evaluator")
          .register(registry).increment(s.count());
    }
  }

  /**
   * One of the node's work queues (the coordinator's, the finalizer's): its units waiting and the
   * evaluators it knows. The gauges show the node's queues together: units summed, evaluators the most any knows.
   */
  public void queue(String name, int depth, int evaluatorCount) {
    queues.put(name, new int[] {depth, evaluatorCount});
    queueDepth.set(queues.values().stream().mapToLong(q -> q[0]).sum());
    evaluators.set(queues.values().stream().mapToLong(q -> q[1]).max().orElse(0));
  }

  private JobGauges gauges(String job) {
    return jobs.computeIfAbsent(job, id -> {
      AtomicLong generation = new AtomicLong();
      AtomicLong divergence = new AtomicLong(Double.doubleToLongBits(Double.NaN));
      AtomicLong sparsity = new AtomicLong(Double.doubleToLongBits(0));
      List<Meter> meters = new ArrayList<>();
      meters.add(Gauge.builder("evoc.job.generation", generation, AtomicLong::get).tag("job", id)
          .description("Generations scored by the job's search").register(registry));
      meters.add(Gauge.builder("evoc.job.best.divergence", divergence, b -> Double.longBitsToDouble(b.get()))
          .tag("job", id).description("The job's best divergence so far").register(registry));
      meters.add(Gauge.builder("evoc.job.sparsity", sparsity, b -> Double.longBitsToDouble(b.get())).tag("job", id)
          .description("Overall sparsity the job has committed").register(registry));
      return new JobGauges(generation, divergence, sparsity, meters);
    });
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }
}
