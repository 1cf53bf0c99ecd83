package io.evoc.protocol.container;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import io.evoc.protocol.model.InvalidModelException;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.GraphProto;
import io.evoc.protocol.onnx.ModelProto;
import io.evoc.protocol.onnx.TensorProto;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Between an ONNX model and a container's graph: the model with its coded tensors' data removed
 * (name, type and dims kept, so the graph still says what it holds), and the way back, a standard
 * ONNX model with the decoded values in place.
 */
public final class ModelPacking {
  private ModelPacking() {}

  /**
   * A container for a model whose weight tensors were finalized: the graph without their data,
   * each tensor coded, and the record of how it was made.
   *
   * @param sourceSha256 SHA-256 of the ONNX file the model was read from
   */
  public static Container pack(OnnxModel model, byte[] sourceSha256, List<QuantizedTensor> tensors,
      Map<String, String> settings, ParetoPoint chosen) {
    Set<String> names = new java.util.LinkedHashSet<>();
    Container.Builder c = Container.newBuilder().setFormatVersion(ContainerFile.FORMAT_VERSION)
        .setSourceSha256(ByteString.copyFrom(sourceSha256)).putAllSettings(settings).setChosen(chosen);
    float[] shared = sharedCodebook(tensors);
    if (shared != null) {
      for (float v : shared) {
        c.addSharedCodebook(v);
      }
    }
    for (QuantizedTensor t : tensors) {
      if (!names.add(t.name())) {
        throw new IllegalArgumentException("tensor '" + t.name() + "' given twice");
      }
      c.addTensors(encode(t, shared));
    }
    return c.setGraph(strippedGraph(model, names)).build();
  }

  /**
   * The codebook all tensors not on a grid have in common, stored once for them (weight sharing),
   * or null: it takes two tensors with equal codebooks.
   */
  static float[] sharedCodebook(List<QuantizedTensor> tensors) {
    List<QuantizedTensor> coded = tensors.stream().filter(t -> t.grid() == null).toList();
    if (coded.size() < 2) {
      return null;
    }
    float[] first = coded.get(0).codebook();
    for (QuantizedTensor t : coded) {
      if (!Arrays.equals(t.codebook(), first)) {
        return null;
      }
    }
    return first;
  }

  /** The coded bytes of the tensors as {@link #pack} stores them: streams, tables and codebooks. */
  public static long codedBytes(List<QuantizedTensor> tensors) {
    float[] shared = sharedCodebook(tensors);
    long bytes = shared == null ? 0 : 4L * shared.length;
    for (QuantizedTensor t : tensors) {
      bytes += encode(t, shared).getSerializedSize();
    }
    return bytes;
  }

  /** A tensor coded as packed: through the shared codebook when there is one, unless it is on a grid. */
  private static CodedTensor encode(QuantizedTensor t, float[] shared) {
    return TensorCoder.encode(t, shared != null && t.grid() == null);
  }

  /** The model's bytes with the data of the named FLOAT initializers cleared. */
  public static ByteString strippedGraph(OnnxModel model, Set<String> coded) {
    GraphProto.Builder graph = model.proto().getGraph().toBuilder();
    int found = 0;
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = graph.getInitializer(i);
      if (coded.contains(t.getName())) {
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
          throw new IllegalArgumentException(model.source() + ": initializer '" + t.getName() + "' is not FLOAT");
        }
        graph.setInitializer(i, t.toBuilder().clearFloatData().clearRawData());
        found++;
      }
    }
    if (found != coded.size()) {
      throw new IllegalArgumentException(model.source() + ": not all of " + coded + " are initializers");
    }
    return model.proto().toBuilder().setGraph(graph).build().toByteString();
  }

  /**
   * The ONNX model the container describes: every coded tensor decoded (CRC-checked) into its
   * initializer, then validated as any model evoc reads.
   *
   * @param source names the container in error messages
   */
  public static OnnxModel rebuild(Container container, String source) {
    ModelProto proto;
    try {
      CodedInputStream in = container.getGraph().newCodedInput();
      in.setRecursionLimit(256);
      proto = ModelProto.parseFrom(in);
    } catch (IOException e) {
      throw new ContainerException(source + ": the stored graph does not parse: " + e.getMessage());
    }
    float[] shared = container.getSharedCodebookCount() == 0 ? null : sharedCodebook(container);
    Map<String, CodedTensor> coded = new HashMap<>();
    for (CodedTensor t : container.getTensorsList()) {
      if (coded.put(t.getName(), t) != null) {
        throw new ContainerException(source + ": tensor '" + t.getName() + "' is stored twice");
      }
    }
    GraphProto.Builder graph = proto.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto init = graph.getInitializer(i);
      CodedTensor t = coded.remove(init.getName());
      if (t == null) {
        continue;
      }
      List<Long> dims = init.getDimsList();
      if (!dims.equals(t.getShapeList()) || init.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
        throw new ContainerException(source + ": tensor '" + t.getName() + "' has shape " + t.getShapeList()
            + ", its initializer " + dims + (init.getDataType() != TensorProto.DataType.FLOAT_VALUE ? " (not FLOAT)" : ""));
      }
      float[] values;
      try {
        values = TensorCoder.decode(t, shared);
      } catch (ContainerException e) {
        throw new ContainerException(source + ": " + e.getMessage());
      }
      graph.setInitializer(i, TensorData.withFloats(init, values));
    }
    if (!coded.isEmpty()) {
      throw new ContainerException(source + ": tensors " + Arrays.toString(coded.keySet().toArray())
          + " have no initializer in the stored graph");
    }
    try {
      return OnnxModel.of(proto.toBuilder().setGraph(graph).build(), source);
    } catch (InvalidModelException e) {
      throw new ContainerException(e.getMessage());
    }
  }

  /** The container's shared codebook, as a decoder takes it. */
  public static float[] sharedCodebook(Container container) {
    float[] shared = new float[container.getSharedCodebookCount()];
    for (int i = 0; i < shared.length; i++) {
      shared[i] = container.getSharedCodebook(i);
    }
    return shared;
  }
}
