package cifarserve.model;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;

/**
 * Writes {@link CifarCnn} as an ONNX graph (opset 17) with the ONNX protobuf classes nd4j-api carries:
 * input {@code input} FP32 [N,3,32,32] NCHW pixels on the 0-1 scale, {@link Normalization}'s per-channel
 * standardisation in the graph, output {@code probabilities} FP32 [N,10] (softmax in the graph).
 *
 * <p>Parameter layouts: DL4J's convolution weights are [out, in, kh, kw] (ONNX Conv's layout); dense
 * weights are [nIn, nOut] (MatMul's right operand). The flatten before the dense layer matches: DL4J's
 * CnnToFeedForwardPreProcessor flattens NCHW activations in c order, as ONNX Flatten(axis 1) does.
 * {@link OnnxVerification} checks the result against DL4J before anything is published.
 */
public final class OnnxExport {
  public static final String INPUT = OnnxModel.INPUT;
  public static final String OUTPUT = OnnxModel.OUTPUT;
  public static final int OPSET = OnnxModel.OPSET;
  private static final long IR_VERSION = 8;

  private OnnxExport() {
  }

  /** The network as a serialised ONNX model. */
  public static byte[] toOnnx(MultiLayerNetwork network, String version) {
    GraphProto.Builder graph = GraphProto.newBuilder().setName("cifar10-cnn");
    graph.addInput(tensorInfo(INPUT, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE));
    graph.addOutput(tensorInfo(OUTPUT, CifarClasses.COUNT));

    graph.addInitializer(floats("mean", new long[] {1, 3, 1, 1}, Normalization.MEAN));
    graph.addInitializer(floats("std", new long[] {1, 3, 1, 1}, Normalization.STD));
    graph.addNode(node("Sub", List.of(INPUT, "mean"), "centred"));
    String current = "standardised";
    graph.addNode(node("Div", List.of("centred", "std"), current));

    int index = 0;
    boolean flattened = false;
    for (Layer layer : network.getLayers()) {
      String name = "l" + index++;
      if (layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer) {
        graph.addInitializer(floats(name + "_W", layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY)));
        graph.addInitializer(floats(name + "_b", layer.getParam(ConvolutionParamInitializer.BIAS_KEY)));
        graph.addNode(node("Conv", List.of(current, name + "_W", name + "_b"), name + "_conv",
            ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1), ints("strides", 1, 1)));
        graph.addNode(node("Relu", List.of(name + "_conv"), name));
      } else if (layer instanceof org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer) {
        graph.addNode(node("MaxPool", List.of(current), name, ints("kernel_shape", 2, 2), ints("strides", 2, 2)));
      } else if (layer instanceof org.deeplearning4j.nn.layers.BaseLayer<?>) {
        if (!flattened) {
          graph.addNode(node("Flatten", List.of(current), "flat", ints("axis", 1)));
          current = "flat";
          flattened = true;
        }
        boolean output = layer instanceof org.deeplearning4j.nn.layers.BaseOutputLayer<?>;
        graph.addInitializer(floats(name + "_W", layer.getParam(DefaultParamInitializer.WEIGHT_KEY)));
        graph.addInitializer(floats(name + "_b", layer.getParam(DefaultParamInitializer.BIAS_KEY)));
        graph.addNode(node("MatMul", List.of(current, name + "_W"), name + "_mm"));
        graph.addNode(node("Add", List.of(name + "_mm", name + "_b"), name + "_z"));
        graph.addNode(output
            ? node("Softmax", List.of(name + "_z"), OUTPUT, ints("axis", 1))
            : node("Relu", List.of(name + "_z"), name));
        if (output) {
          return model(graph, version).toByteArray();
        }
      } else {
        throw new IllegalArgumentException("no ONNX mapping for layer " + layer.getClass().getSimpleName());
      }
      current = name;
    }
    throw new IllegalArgumentException("network has no output layer");
  }

  private static ModelProto model(GraphProto.Builder graph, String version) {
    return ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setProducerName("cifar-serve")
        .setModelVersion(1)
        .setDocString("CIFAR-10 CNN " + version + " (" + CifarCnn.ARCHITECTURE_ID + "): input pixels 0-1 NCHW")
        .setGraph(graph)
        .build();
  }

  private static NodeProto node(String op, List<String> inputs, String output, AttributeProto... attributes) {
    return NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output)
        .addAllAttribute(List.of(attributes)).build();
  }

  private static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name);
    if (name.equals("axis")) {
      return attribute.setType(AttributeProto.AttributeType.INT).setI(values[0]).build();
    }
    attribute.setType(AttributeProto.AttributeType.INTS);
    for (long value : values) {
      attribute.addInts(value);
    }
    return attribute.build();
  }

  /** A float32 [N, dims...] tensor description with a symbolic batch dimension. */
  private static ValueInfoProto tensorInfo(String name, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
    for (long dim : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
    }
    TypeProto.Tensor tensor = TypeProto.Tensor.newBuilder()
        .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape).build();
    return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensor)).build();
  }

  private static TensorProto floats(String name, INDArray array) {
    INDArray c = array.dup('c');
    long[] shape = c.shape();
    if (shape.length == 2 && shape[0] == 1) {
      shape = new long[] {shape[1]}; // DL4J biases are [1, n]: ONNX broadcasting wants [n]
    }
    return floats(name, shape, c.reshape(c.length()).toFloatVector());
  }

  private static TensorProto floats(String name, long[] shape, float[] values) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    List<Long> dims = new ArrayList<>();
    for (long dim : shape) {
      dims.add(dim);
    }
    return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .addAllDims(dims).setRawData(ByteString.copyFrom(raw.array())).build();
  }
}
