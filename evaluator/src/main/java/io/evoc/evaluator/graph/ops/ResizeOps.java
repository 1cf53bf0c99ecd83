package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import io.evoc.evaluator.graph.Tensors;
import java.util.List;
import java.util.Map;

/**
 * Resize in nearest mode: each output index maps to an input index by the node's coordinate
 * transformation and rounding rule, computed on the host in float as ONNX Runtime does, then
 * gathered axis by axis.
 */
final class ResizeOps {
  private static final List<String> TRANSFORMS = List.of("half_pixel", "half_pixel_symmetric",
      "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn");

  private ResizeOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("Resize", ResizeOps::resize);
  }

  private static Kernel resize(Node n, PlanContext c) {
    String mode = n.attrString("mode", "nearest");
    if (!mode.equals("nearest")) {
      throw n.unsupported("mode " + mode + " is not supported (nearest only)");
    }
    boolean opset10 = n.opset() < 11;
    String transform = opset10 ? "asymmetric" : n.attrString("coordinate_transformation_mode", "half_pixel");
    String rounding = opset10 ? "simple" : n.attrString("nearest_mode", "round_prefer_floor");
    if (!TRANSFORMS.contains(transform)) {
      throw n.unsupported("coordinate_transformation_mode " + transform + " is not supported");
    }
    if (!n.attrString("keep_aspect_ratio_policy", "stretch").equals("stretch")) {
      throw n.unsupported("keep_aspect_ratio_policy other than stretch is not supported");
    }
    long[] attrAxes = n.attrInts("axes", null);
    return in -> {
      NDArray x = in[0];
      int rank = x.getShape().dimension();
      long[] scalesGiven = null;
      float[] scales = null;
      long[] sizes = null;
      if (opset10) {
        scales = Tensors.floats(in[1]);
      } else {
        NDArray s = in.length > 2 ? in[2] : null;
        scales = s == null || s.size() == 0 ? null : Tensors.floats(s);
        sizes = Axes.optionalLongs(in.length > 3 ? in[3] : null);
      }
      int[] axes = attrAxes == null ? range(rank) : Axes.normalize(attrAxes, rank);
      NDArray y = x;
      for (int k = 0; k < axes.length; k++) {
        int axis = axes[k];
        long inLen = x.getShape().get(axis);
        long outLen;
        float scale;
        if (sizes != null) {
          outLen = sizes[k];
          scale = (float) outLen / (float) inLen;
        } else {
          scale = scales[k];
          outLen = (long) (scale * (float) inLen);
        }
        if (outLen == inLen && scale == 1f) {
          continue;
        }
        y = Axes.take(y, axis, sources(transform, rounding, inLen, outLen, scale));
      }
      return new NDArray[] {y};
    };
  }

  static long[] sources(String transform, String rounding, long inLen, long outLen, float scale) {
    long[] src = new long[(int) outLen];
    for (int i = 0; i < src.length; i++) {
      float x = original(transform, i, inLen, outLen, scale);
      long j = round(rounding, x, scale);
      src[i] = Math.max(0, Math.min(inLen - 1, j));
    }
    return src;
  }

  private static float original(String transform, int i, long inLen, long outLen, float scale) {
    return switch (transform) {
      case "asymmetric" -> i / scale;
      case "pytorch_half_pixel" -> outLen > 1 ? (i + 0.5f) / scale - 0.5f : 0f;
      case "tf_half_pixel_for_nn" -> (i + 0.5f) / scale;
      case "align_corners" -> outLen == 1 ? 0f : i * (float) (inLen - 1) / (float) (outLen - 1);
      case "half_pixel_symmetric" -> {
        float adjustment = outLen / (scale * inLen);
        float offset = inLen / 2f * (1 - adjustment);
        yield offset + (i + 0.5f) / scale - 0.5f;
      }
      default -> (i + 0.5f) / scale - 0.5f;
    };
  }

  private static long round(String rounding, float x, float scale) {
    return switch (rounding) {
      case "floor" -> (long) Math.floor(x);
      case "ceil" -> (long) Math.ceil(x);
      case "round_prefer_ceil" -> (long) Math.floor(x + 0.5f);
      // Opset 10 (as ONNX Runtime implements it): ceil when shrinking, truncate when growing.
      case "simple" -> scale < 1f ? (long) Math.ceil(x) : (long) x;
      default -> x == Math.floor(x) + 0.5f ? (long) Math.floor(x) : Math.round(x);
    };
  }

  private static int[] range(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }
}
