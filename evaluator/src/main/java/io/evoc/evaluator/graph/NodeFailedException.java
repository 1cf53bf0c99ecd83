package io.evoc.evaluator.graph;

/**
 * A node failed while running, usually because the model's shapes disagree (a weight that does not
 * fit its input). The message names the node and says why, on one line.
 */
public final class NodeFailedException extends RuntimeException {
  NodeFailedException(Node node, RuntimeException cause) {
    super(node.label() + ": " + firstLine(cause.getMessage()), cause);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "failed";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
