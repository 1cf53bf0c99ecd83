package io.evoc.evaluator.train;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.GraphProto;
import io.evoc.protocol.onnx.ModelProto;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.OperatorSetIdProto;
import io.evoc.protocol.onnx.StringStringEntryProto;
import io.evoc.protocol.onnx.TensorProto;
import io.evoc.protocol.onnx.TensorShapeProto;
import io.evoc.protocol.onnx.TypeProto;
import io.evoc.protocol.onnx.ValueInfoProto;
import java.util.List;

/**
 * Writes a trained teacher as a plain ONNX graph (IR 8, opset 13): input {@code input} of
 * [N, 784] or [N, 1, 28, 28] float, output {@code logits} of [N, 10] float, weights as
 * initializers named like {@code fc1.weight}.
 */
public final class OnnxExport {
  public static final long IR_VERSION = 8;
  public static final long OPSET = 13;
  public static final String INPUT = "input";
  public static final String OUTPUT = "logits";
  private static final String BATCH = "N";

  private OnnxExport() {}

  /** The network as a model; {@code source} names it in error messages. */
  public static OnnxModel toModel(TrainedNetwork net, String source) {
    Architecture arch = net.architecture();
    GraphProto.Builder graph = GraphProto.newBuilder().setName("evoc-" + arch.cliName());
    String x = INPUT;
    List<Layer> layers = arch.layers();
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      String y = i == layers.size() - 1 ? OUTPUT : "t" + i;
      NodeProto.Builder node = NodeProto.newBuilder().setName("n" + i).addInput(x).addOutput(y);
      if (layer instanceof Layer.Dense d) {
        node.setOpType("Gemm").addInput(d.name() + ".weight").addInput(d.name() + ".bias")
            // DJL keeps Linear weights as [out, in]; Gemm computes x * W^T + b with transB=1.
            .addAttribute(intAttr("transB", 1));
      } else if (layer instanceof Layer.Conv c) {
        node.setOpType("Conv").addInput(c.name() + ".weight").addInput(c.name() + ".bias")
            .addAttribute(intsAttr("kernel_shape", c.kernel(), c.kernel()))
            .addAttribute(intsAttr("pads", c.pad(), c.pad(), c.pad(), c.pad()))
            .addAttribute(intsAttr("strides", 1, 1));
      } else if (layer instanceof Layer.MaxPool p) {
        node.setOpType("MaxPool")
            .addAttribute(intsAttr("kernel_shape", p.size(), p.size()))
            .addAttribute(intsAttr("strides", p.size(), p.size()));
      } else if (layer instanceof Layer.Flatten) {
        node.setOpType("Flatten").addAttribute(intAttr("axis", 1));
      } else if (layer instanceof Layer.Relu) {
        node.setOpType("Relu");
      } else {
        throw new IllegalStateException("no ONNX operator for " + layer);
      }
      graph.addNode(node);
      x = y;
    }
    for (TrainedNetwork.Weight w : net.weights()) {
      graph.addInitializer(TensorData.floatTensor(w.name(), w.shape(), w.values()));
    }
    graph.addInput(value(INPUT, arch.sampleShape()));
    graph.addOutput(value(OUTPUT, new long[] {Architecture.CLASSES}));

    TrainSettings s = net.settings();
    ModelProto model = ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setProducerName("evoc")
        .setDocString("Fashion-MNIST teacher '" + arch.cliName() + "'; input is pixels / 255")
        .addMetadataProps(meta("evoc.arch", arch.cliName()))
        .addMetadataProps(meta("evoc.epochs", Integer.toString(s.epochs())))
        .addMetadataProps(meta("evoc.seed", Long.toString(s.seed())))
        .addMetadataProps(meta("evoc.batch_size", Integer.toString(s.batchSize())))
        .addMetadataProps(meta("evoc.learning_rate", Float.toString(s.learningRate())))
        .setGraph(graph)
        .build();
    return OnnxModel.of(model, source);
  }

  /** A float tensor [N, dims...] with N symbolic. */
  private static ValueInfoProto value(String name, long[] dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
        .setTensorType(TypeProto.Tensor.newBuilder()
            .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  private static AttributeProto intsAttr(String name, long... vs) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : vs) {
      a.addInts(v);
    }
    return a.build();
  }

  private static StringStringEntryProto meta(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }
}
