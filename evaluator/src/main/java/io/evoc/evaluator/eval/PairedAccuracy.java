package io.evoc.evaluator.eval;

/**
 * Two classifiers' predictions on the same labelled samples, compared sample by sample: the
 * difference in accuracy and its standard error from the samples on which exactly one of the two
 * is right (McNemar's discordant pairs). On a shared test set this error is far smaller than
 * either accuracy's own (two students that disagree on 7% of 10,000 images: about 0.25 points,
 * against about 0.3 for each alone), so it tells whether a difference is more than chance.
 *
 * @param onlyFirst samples the first gets right and the second wrong
 * @param onlySecond samples the second gets right and the first wrong
 * @param agree samples on which both predict the same class, right or wrong
 */
public record PairedAccuracy(int samples, int onlyFirst, int onlySecond, int agree) {
  public static PairedAccuracy of(int[] first, int[] second, int[] labels) {
    if (first.length != labels.length || second.length != labels.length) {
      throw new IllegalArgumentException(first.length + " and " + second.length + " predictions for "
          + labels.length + " labels");
    }
    int onlyFirst = 0;
    int onlySecond = 0;
    int agree = 0;
    for (int i = 0; i < labels.length; i++) {
      boolean a = first[i] == labels[i];
      boolean b = second[i] == labels[i];
      onlyFirst += a && !b ? 1 : 0;
      onlySecond += b && !a ? 1 : 0;
      agree += first[i] == second[i] ? 1 : 0;
    }
    return new PairedAccuracy(labels.length, onlyFirst, onlySecond, agree);
  }

  /** The first's accuracy minus the second's, as a fraction. */
  public double difference() {
    return (double) (onlyFirst - onlySecond) / samples;
  }

  /** Standard error of {@link #difference}: the spread of the per-sample differences (+1, -1, 0) over √n. */
  public double standardError() {
    double n = samples;
    double d = onlyFirst - onlySecond;
    double variance = ((onlyFirst + onlySecond) - d * d / n) / n;
    return Math.sqrt(Math.max(0, variance) / n);
  }
}
