package io.evoc.evaluator.graph;

import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.TensorProto;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One graph node as kernels see it: op type, the model's opset, and typed attribute lookups. */
public final class Node {
  private final NodeProto proto;
  private final long opset;
  private final Map<String, AttributeProto> attributes = new HashMap<>();

  public Node(NodeProto proto, long opset) {
    this.proto = proto;
    this.opset = opset;
    for (AttributeProto a : proto.getAttributeList()) {
      attributes.put(a.getName(), a);
    }
  }

  public String opType() {
    return proto.getOpType();
  }

  public long opset() {
    return opset;
  }

  /** The node's name, or its first output when it has none: what error messages show. */
  public String label() {
    String name = proto.getName().isEmpty() ? proto.getOutput(0) : proto.getName();
    return proto.getOpType() + " '" + name + "'";
  }

  public List<String> inputs() {
    return proto.getInputList();
  }

  public List<String> outputs() {
    return proto.getOutputList();
  }

  public boolean has(String attribute) {
    return attributes.containsKey(attribute);
  }

  public long attrInt(String name, long fallback) {
    AttributeProto a = attributes.get(name);
    return a == null ? fallback : a.getI();
  }

  public float attrFloat(String name, float fallback) {
    AttributeProto a = attributes.get(name);
    return a == null ? fallback : a.getF();
  }

  public String attrString(String name, String fallback) {
    AttributeProto a = attributes.get(name);
    return a == null ? fallback : a.getS().toStringUtf8();
  }

  /** An INTS attribute, or {@code fallback} (possibly null) when absent. */
  public long[] attrInts(String name, long[] fallback) {
    AttributeProto a = attributes.get(name);
    return a == null ? fallback : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
  }

  public float[] attrFloats(String name, float[] fallback) {
    AttributeProto a = attributes.get(name);
    if (a == null) {
      return fallback;
    }
    float[] out = new float[a.getFloatsCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.getFloats(i);
    }
    return out;
  }

  public TensorProto attrTensor(String name) {
    AttributeProto a = attributes.get(name);
    return a == null ? null : a.getT();
  }

  /** Failure of this node at plan or run time, named so a user can find it in the graph. */
  public UnsupportedModelException unsupported(String what) {
    return new UnsupportedModelException(label() + ": " + what);
  }
}
