package io.evoc.protocol.model;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.GraphProto;
import io.evoc.protocol.onnx.ModelProto;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.OperatorSetIdProto;
import io.evoc.protocol.onnx.TensorProto;
import io.evoc.protocol.onnx.TensorShapeProto;
import io.evoc.protocol.onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model read from a file someone else wrote: validated on load, inspected, and written back
 * with replaced weights and nothing else changed. Immutable.
 */
public final class OnnxModel {
  /** The oldest default-domain opset evoc reads. */
  public static final long MIN_OPSET = 7;

  // ONNX models can exceed protobuf's default 64 MiB message limit; the format's own limit is 2 GiB.
  private static final int MAX_MESSAGE_BYTES = Integer.MAX_VALUE;

  private final ModelProto proto;
  private final String source;
  private final long opset;
  private final Map<String, TensorProto> initializers;

  private OnnxModel(ModelProto proto, String source) {
    this.proto = proto;
    this.source = source;
    this.opset = validate(proto, source);
    Map<String, TensorProto> inits = new LinkedHashMap<>();
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      inits.put(t.getName(), t);
    }
    this.initializers = Collections.unmodifiableMap(inits);
  }

  /** Reads and validates a model file. */
  public static OnnxModel read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new InvalidModelException(file + ": no such file");
    } catch (IOException e) {
      throw new InvalidModelException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    return parse(bytes, file.toString());
  }

  /** Parses and validates model bytes; {@code source} names them in error messages. */
  public static OnnxModel parse(byte[] bytes, String source) {
    if (bytes.length == 0) {
      throw new InvalidModelException(source + ": file is empty, not an ONNX model");
    }
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      in.setSizeLimit(MAX_MESSAGE_BYTES);
      in.setRecursionLimit(256);
      return new OnnxModel(ModelProto.parseFrom(in), source);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidModelException(source + ": not an ONNX model (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new InvalidModelException(source + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  /** Wraps a model built in memory (by the trainer, or a test), with the same validation. */
  public static OnnxModel of(ModelProto proto, String source) {
    return new OnnxModel(proto, source);
  }

  public ModelProto proto() {
    return proto;
  }

  public String source() {
    return source;
  }

  public long irVersion() {
    return proto.getIrVersion();
  }

  /** Version of the default ("" or "ai.onnx") operator set. */
  public long opset() {
    return opset;
  }

  public GraphProto graph() {
    return proto.getGraph();
  }

  /** Graph inputs that are fed at run time: declared inputs that no initializer defines. */
  public List<TensorSpec> inputs() {
    List<TensorSpec> out = new ArrayList<>();
    for (ValueInfoProto v : proto.getGraph().getInputList()) {
      if (!initializers.containsKey(v.getName())) {
        out.add(spec(v));
      }
    }
    return out;
  }

  public List<TensorSpec> outputs() {
    return proto.getGraph().getOutputList().stream().map(OnnxModel::spec).toList();
  }

  /** Initializers by name, in file order. */
  public Map<String, TensorProto> initializers() {
    return initializers;
  }

  /** Distinct operator types in node order, with their domain when it is not the default one. */
  public Set<String> opTypes() {
    Set<String> ops = new LinkedHashSet<>();
    for (NodeProto n : proto.getGraph().getNodeList()) {
      ops.add(isDefaultDomain(n.getDomain()) ? n.getOpType() : n.getDomain() + ":" + n.getOpType());
    }
    return ops;
  }

  /** The elements of a FLOAT initializer. */
  public float[] floats(String initializer) {
    TensorProto t = initializers.get(initializer);
    if (t == null) {
      throw new IllegalArgumentException(source + ": no initializer named '" + initializer + "'");
    }
    return TensorData.floats(t);
  }

  /**
   * The same model with some FLOAT initializers' values replaced; everything else, including the
   * order of fields, stays as it was.
   */
  public OnnxModel withWeights(Map<String, float[]> replacements) {
    Map<String, float[]> pending = new HashMap<>(replacements);
    GraphProto.Builder graph = proto.getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      float[] values = pending.remove(graph.getInitializer(i).getName());
      if (values != null) {
        graph.setInitializer(i, TensorData.withFloats(graph.getInitializer(i), values));
      }
    }
    if (!pending.isEmpty()) {
      throw new IllegalArgumentException(source + ": no initializers named " + pending.keySet());
    }
    return new OnnxModel(proto.toBuilder().setGraph(graph).build(), source);
  }

  /**
   * The same model with the named initializers turned into graph inputs, so a runtime can be fed
   * edited weights on every run without rebuilding its session.
   */
  public OnnxModel withInitializersAsInputs(Set<String> names) {
    GraphProto.Builder graph = proto.getGraph().toBuilder().clearInitializer();
    Set<String> declared = new java.util.HashSet<>();
    for (ValueInfoProto v : proto.getGraph().getInputList()) {
      declared.add(v.getName());
    }
    for (TensorProto t : proto.getGraph().getInitializerList()) {
      if (!names.contains(t.getName())) {
        graph.addInitializer(t);
      } else if (!declared.contains(t.getName())) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : t.getDimsList()) {
          shape.addDimBuilder().setDimValue(d);
        }
        graph.addInput(ValueInfoProto.newBuilder().setName(t.getName()).setType(
            io.evoc.protocol.onnx.TypeProto.newBuilder().setTensorType(
                io.evoc.protocol.onnx.TypeProto.Tensor.newBuilder()
                    .setElemType(t.getDataType()).setShape(shape))));
      }
    }
    return new OnnxModel(proto.toBuilder().setGraph(graph).build(), source);
  }

  public byte[] toBytes() {
    return proto.toByteArray();
  }

  public void write(Path file) throws IOException {
    io.evoc.protocol.files.WholeFiles.write(file, toBytes());
  }

  public static boolean isDefaultDomain(String domain) {
    return domain.isEmpty() || domain.equals("ai.onnx");
  }

  static TensorSpec spec(ValueInfoProto v) {
    if (!v.getType().hasTensorType()) {
      return new TensorSpec(v.getName(), 0, new long[0], List.of());
    }
    var tensor = v.getType().getTensorType();
    List<TensorShapeProto.Dimension> dimList = tensor.getShape().getDimList();
    long[] dims = new long[dimList.size()];
    List<String> names = new ArrayList<>();
    for (int i = 0; i < dims.length; i++) {
      TensorShapeProto.Dimension d = dimList.get(i);
      dims[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1;
      names.add(d.hasDimParam() ? d.getDimParam() : "");
    }
    return new TensorSpec(v.getName(), tensor.getElemType(), dims, names);
  }

  private static long validate(ModelProto proto, String source) {
    if (!proto.hasGraph() || proto.getGraph().getNodeCount() == 0) {
      throw new InvalidModelException(source + ": not an ONNX model (no graph or no nodes)");
    }
    long opset = -1;
    for (OperatorSetIdProto o : proto.getOpsetImportList()) {
      if (isDefaultDomain(o.getDomain())) {
        opset = Math.max(opset, o.getVersion());
      }
    }
    if (opset < 0) {
      // IR version 2 and older had no opset_import; such files predate opset 7 anyway.
      throw new InvalidModelException(source + ": declares no ONNX operator set (IR version "
          + proto.getIrVersion() + "); re-export it with opset " + MIN_OPSET + " or newer");
    }
    if (opset < MIN_OPSET) {
      throw new InvalidModelException(source + ": opset " + opset + " is older than " + MIN_OPSET
          + ", the oldest evoc reads; convert it with onnx.version_converter");
    }
    GraphProto g = proto.getGraph();
    if (g.getSparseInitializerCount() > 0) {
      throw new InvalidModelException(source + ": sparse initializer '"
          + g.getSparseInitializer(0).getValues().getName() + "' is not supported; store it dense");
    }
    for (TensorProto t : g.getInitializerList()) {
      requireEmbedded(t, source);
    }
    for (NodeProto n : g.getNodeList()) {
      for (AttributeProto a : n.getAttributeList()) {
        if (a.hasT()) {
          requireEmbedded(a.getT(), source);
        }
      }
    }
    return opset;
  }

  /** Data stored in the file, and as much of it as the shape says. */
  private static void requireEmbedded(TensorProto t, String source) {
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
      throw new InvalidModelException(source + ": tensor '" + t.getName()
          + "' keeps its data in an external file; evoc needs a self-contained model"
          + " (onnx.save_model(m, f, save_as_external_data=False))");
    }
    try {
      TensorData.validate(t);
    } catch (InvalidModelException e) {
      throw new InvalidModelException(source + ": " + e.getMessage(), e);
    }
  }
}
