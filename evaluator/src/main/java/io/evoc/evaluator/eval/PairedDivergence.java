package io.evoc.evaluator.eval;

/**
 * Two students' divergences from one teacher on the same samples, compared sample by sample: the
 * difference of the means and its standard error from the per-sample differences. Both students
 * find the same images hard, so the paired error is far smaller than either mean's own spread:
 * it tells whether a lower test KL is more than the luck of the test set.
 *
 * @param first mean divergence of the first student
 * @param second mean divergence of the second
 * @param difference first minus second
 * @param standardError standard deviation of the per-sample differences over √n
 */
public record PairedDivergence(int samples, double first, double second, double difference, double standardError) {
  public static PairedDivergence of(double[] first, double[] second) {
    if (first.length != second.length || first.length == 0) {
      throw new IllegalArgumentException(first.length + " and " + second.length
          + " divergences; expected the same, non-zero count");
    }
    int n = first.length;
    double a = 0;
    double b = 0;
    for (int i = 0; i < n; i++) {
      a += first[i];
      b += second[i];
    }
    double mean = (a - b) / n;
    double squares = 0;
    for (int i = 0; i < n; i++) {
      double d = first[i] - second[i] - mean;
      squares += d * d;
    }
    // Population variance, as PairedAccuracy's: at n in the thousands the two do not differ.
    return new PairedDivergence(n, a / n, b / n, mean, Math.sqrt(squares / n / n));
  }

  /** The first's mean over the second's (NaN when the second is zero). */
  public double ratio() {
    return second == 0 ? Double.NaN : first / second;
  }
}
