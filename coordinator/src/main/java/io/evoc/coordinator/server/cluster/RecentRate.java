package io.evoc.coordinator.server.cluster;

/**
 * Counts per second over the last minute, in a ring of one-second buckets: an evaluator's recent
 * throughput, which a lifetime average hides (an evaluator that slowed down or stopped getting
 * work). Not thread-safe: the work queue holds its lock.
 */
final class RecentRate {
  static final int WINDOW_SECONDS = 60;
  private final long[] counts = new long[WINDOW_SECONDS];
  /** The second each bucket counts; a bucket of an older second is stale. */
  private final long[] seconds = new long[WINDOW_SECONDS];
  private final long since;

  /** @param nowSecond the second counting starts in: the window is shorter until a minute has passed */
  RecentRate(long nowSecond) {
    this.since = nowSecond;
    java.util.Arrays.fill(seconds, Long.MIN_VALUE);
  }

  void add(long n, long nowSecond) {
    int i = (int) Math.floorMod(nowSecond, (long) WINDOW_SECONDS);
    if (seconds[i] != nowSecond) {
      seconds[i] = nowSecond;
      counts[i] = 0;
    }
    counts[i] += n;
  }

  /** Counted over the last minute (since counting started, when that is sooner), per second. */
  double perSecond(long nowSecond) {
    long sum = 0;
    for (int i = 0; i < WINDOW_SECONDS; i++) {
      if (seconds[i] > nowSecond - WINDOW_SECONDS && seconds[i] <= nowSecond) {
        sum += counts[i];
      }
    }
    return sum / (double) Math.max(1, Math.min(WINDOW_SECONDS, nowSecond - since + 1));
  }
}
