package cifarserve.model;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_inner_product_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_init_by_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_init_by_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_max;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise;
import static org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_wait;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_inner_product_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_pooling_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network's inference forward pass for a fixed batch size, compiled once into a chain of oneDNN
 * primitives, the way inference engines (OpenVINO, TensorRT, ONNX Runtime) run a trained network:
 * weights reordered once into the layout the kernels want, ReLU fused into each convolution and dense
 * layer, activations kept in oneDNN's blocked layout from layer to layer, every buffer allocated once.
 *
 * <p>Why: DL4J runs each layer as separate ops on plain NCHW arrays. Per layer and per call it
 * re-describes memory, reorders weights and activations to and from the blocked layout, and runs ReLU
 * as an op of its own; its max-pooling on NCHW falls back to oneDNN's reference kernel (0.35 ms for
 * one 32x32x32 pool). Measured on this 2-core machine (docs/performance.md): one image 3.6-5 ms
 * through DL4J, 0.7-0.8 ms as a chain; batch 128 866 images/s through DL4J, 1,600-1,800 as chains.
 * The arithmetic is the same (oneDNN's convolution and inner-product kernels, the network's own
 * weights), so the answers equal {@code network.output} up to float rounding (ModelTest checks it).
 *
 * <p>Built only for what it can express exactly: NCHW convolutions with odd kernels, stride 1, no
 * dilation and "same" padding; max pooling; dense layers; a softmax output layer; ReLU or identity
 * activations; no layer norm or weight noise. {@link #of} returns empty for anything else and
 * callers keep DL4J's path. Dropout is a training-time operation and does not apply.
 *
 * <p>Not thread-safe (one set of buffers). oneDNN runs it on the calling thread's OpenMP team (both
 * cores by default).
 */
public final class OneDnnForward implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OneDnnForward.class);
  private final dnnl_stream stream;
  private final List<Step> steps;
  private final FloatPointer input;
  private final FloatPointer logits;
  private final int batch;
  private final int imageLength;
  private final int classes;
  /** Frees what the chain created, in order of creation (run in reverse by {@link #close}). */
  private final List<Runnable> owned;

  private record Step(dnnl_primitive primitive, dnnl_exec_arg_t args, int argCount) {
  }

  private OneDnnForward(dnnl_stream stream, List<Step> steps, FloatPointer input, int batch, int imageLength,
      FloatPointer logits, int classes, List<Runnable> owned) {
    this.stream = stream;
    this.steps = steps;
    this.input = input;
    this.batch = batch;
    this.imageLength = imageLength;
    this.logits = logits;
    this.classes = classes;
    this.owned = owned;
  }

  /**
   * Frees the chain's native primitives and buffers, in reverse order of creation (and its engine and
   * weights when it has its own, made by the three-argument {@link #of}; a {@link Shared} one is closed
   * by its owner). The chain must not be used afterwards.
   */
  @Override
  public void close() {
    free(owned);
  }

  /** Whether {@link #close} freed this chain. */
  public boolean isClosed() {
    return owned.isEmpty();
  }

  private static void free(List<Runnable> releases) {
    for (int i = releases.size() - 1; i >= 0; i--) {
      releases.get(i).run();
    }
    releases.clear();
  }

  /** How many images one call computes (fewer may be passed: the rest of the batch is left over). */
  public int batchSize() {
    return batch;
  }

  /**
   * Loads oneDNN's native libraries (libdnnl, 55 MB, and JavaCPP's bindings) on a daemon thread, so that
   * a cold start pays for it while it restores the model rather than in its first prediction (measured
   * ~100 ms of that prediction otherwise). Harmless when the libraries are missing: the first chain
   * then reports it and callers keep DL4J's path.
   */
  public static void loadLibraryInBackground() {
    Thread loader = new Thread(() -> {
      try {
        org.bytedeco.javacpp.Loader.load(dnnl.class);
      } catch (Throwable e) { // UnsatisfiedLinkError and the like: reported when a chain is compiled
        LOG.debug("oneDNN preload failed: {}", e.toString());
      }
    }, "onednn-preload");
    loader.setDaemon(true);
    loader.start();
  }

  /**
   * The compiled chain for {@code network}, with an engine and weights of its own, or empty when the
   * network has a layer this class does not express.
   */
  public static Optional<OneDnnForward> of(MultiLayerNetwork network, int batch, long[] inputChw) {
    Shared own = Shared.create().orElse(null);
    if (own == null) {
      return Optional.empty();
    }
    Optional<OneDnnForward> chain = of(network, batch, inputChw, own);
    if (chain.isEmpty()) {
      own.close();
    } else {
      chain.get().owned.add(0, own::close); // freed last, after the chain's primitives
    }
    return chain;
  }

  /** The compiled chain, using (and adding to) {@code shared}'s engine and reordered weights. */
  public static Optional<OneDnnForward> of(MultiLayerNetwork network, int batch, long[] inputChw, Shared shared) {
    // oneDNN's libraries are loaded once a Shared exists: only the network itself can refuse here.
    Builder builder = new Builder(network, batch, inputChw, shared);
    OneDnnForward chain = null;
    try {
      chain = builder.build();
      if (chain == null) {
        LOG.info("Inference runs through DL4J's layers: {}", builder.reason);
      }
    } catch (IllegalStateException e) {
      LOG.warn("Inference runs through DL4J's layers: {}", e.getMessage());
    }
    if (chain == null) {
      free(builder.owned);
    }
    return Optional.ofNullable(chain);
  }

  /**
   * Class probabilities for {@code count} (at most {@link #batchSize()}) standardised CHW images, one
   * row per image. A short batch computes the whole batch anyway (the rows past {@code count} hold
   * whatever the previous call left there) and returns only its own rows.
   */
  public float[][] output(float[] standardisedChw, int count) {
    if (count < 1 || count > batch || standardisedChw.length != count * imageLength) {
      throw new IllegalArgumentException("expected 1.." + batch + " images of " + imageLength + " values, got "
          + standardisedChw.length + " values for " + count);
    }
    input.put(standardisedChw, 0, standardisedChw.length);
    for (Step step : steps) {
      check(dnnl_primitive_execute(step.primitive(), stream, step.argCount(), step.args()), "execute");
    }
    check(dnnl_stream_wait(stream), "stream wait");
    float[][] rows = new float[count][classes];
    for (int i = 0; i < count; i++) {
      logits.position((long) i * classes).get(rows[i], 0, classes);
      softmaxInPlace(rows[i]);
    }
    logits.position(0);
    return rows;
  }

  /** Softmax as DL4J computes it (shifted by the maximum, so large logits cannot overflow). */
  private static void softmaxInPlace(float[] z) {
    float max = Float.NEGATIVE_INFINITY;
    for (float v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) Math.exp(z[i] - max);
      sum += z[i];
    }
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) (z[i] / sum);
    }
  }

  private static void check(int status, String what) {
    if (status != dnnl_success) {
      throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
    }
  }

  /**
   * What the chains of one model share, whatever their batch size or thread: oneDNN's CPU engine and
   * the weights reordered into the layouts the primitives asked for (the same layout for most batch
   * sizes: 8.7 MB once instead of once per chain). Thread-safe: oneDNN engines and primitives are, and
   * the weights are only read once made.
   */
  public static final class Shared implements AutoCloseable {
    private final List<Runnable> owned = new ArrayList<>();
    private final dnnl_engine engine = new dnnl_engine();
    private final List<Constant> constants = new ArrayList<>();

    private record Constant(String key, dnnl_memory_desc_t md, dnnl_memory memory) {
    }

    private Shared() {
      check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
      owned.add(() -> dnnl_engine_destroy(engine));
    }

    /** A new engine, or empty (logged) in a build or on a machine where oneDNN's libraries do not load. */
    public static Optional<Shared> create() {
      try {
        return Optional.of(new Shared());
      } catch (UnsatisfiedLinkError | NoClassDefFoundError | IllegalStateException e) {
        LOG.info("Inference runs through DL4J's layers: oneDNN is not available ({})", e.toString());
        return Optional.empty();
      }
    }

    /** Frees the engine and the weights; only after every chain made with it is closed. */
    @Override
    public synchronized void close() {
      constants.clear();
      free(owned);
    }
  }

  /** Walks the network's layers and turns each into primitives; null when one is not expressible. */
  private static final class Builder {
    private final MultiLayerNetwork network;
    private final List<Runnable> owned = new ArrayList<>();
    /** Where {@link #keep} records what it must free: the chain's list, or the shared one for weights. */
    private List<Runnable> target = owned;
    private final List<Step> steps = new ArrayList<>();
    private final Shared shared;
    private final dnnl_engine engine;
    private final dnnl_stream stream = new dnnl_stream();
    private int layerIndex;
    private String reason = "no layers";
    private long[] dims; // logical dims of the current activation: {batch, C, H, W} or {batch, N}
    private dnnl_memory_desc_t currentMd;
    private dnnl_memory currentMemory;

    Builder(MultiLayerNetwork network, int batch, long[] inputChw, Shared shared) {
      if (batch < 1) {
        throw new IllegalArgumentException("batch must be at least 1, got " + batch);
      }
      this.network = network;
      this.shared = shared;
      this.engine = shared.engine;
      this.dims = new long[] {batch, inputChw[0], inputChw[1], inputChw[2]};
    }

    OneDnnForward build() {
      check(dnnl_stream_create(keep(stream, dnnl::dnnl_stream_destroy), engine, dnnl_stream_default_flags), "stream");
      // The caller writes plain NCHW floats here; the first primitive reads them (via a reorder if needed).
      int batch = (int) dims[0];
      int imageLength = (int) (product(dims) / batch);
      currentMd = plainMd(dims);
      FloatPointer input = buffer(currentMd);
      currentMemory = memory(currentMd, input);
      Layer[] layers = network.getLayers();
      if (layers.length == 0) {
        return null;
      }
      for (int i = 0; i < layers.length; i++) {
        InputPreProcessor pre = network.getLayerWiseConfigurations().getInputPreProcess(i);
        if (pre != null && !(pre instanceof CnnToFeedForwardPreProcessor flatten
            && flatten.getFormat() == CNN2DFormat.NCHW && dims.length == 4)) {
          reason = "input pre-processor of layer " + i + " is not an NCHW flattening";
          return null;
        }
        boolean last = i == layers.length - 1;
        layerIndex = i;
        boolean added;
        if (layers[i] instanceof ConvolutionLayer conv && conv.getClass() == ConvolutionLayer.class && !last) {
          added = convolution(conv);
        } else if (layers[i] instanceof SubsamplingLayer pool && pool.getClass() == SubsamplingLayer.class && !last) {
          added = maxPooling(pool);
        } else if (layers[i] instanceof org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer dense && !last) {
          added = dense(dense, false);
        } else if (layers[i] instanceof org.deeplearning4j.nn.layers.OutputLayer output && last) {
          added = dense(output, true);
        } else {
          added = false;
        }
        if (!added) {
          reason = "layer " + i + " (" + layers[i].getClass().getSimpleName() + ") has no exact oneDNN equivalent here";
          return null;
        }
      }
      // The output layer's pre-softmax values, read back plain.
      dnnl_memory_desc_t plainOut = plainMd(dims);
      FloatPointer logits = buffer(plainOut);
      dnnl_memory logitsMemory = memory(plainOut, logits);
      reorder(currentMd, currentMemory, plainOut, logitsMemory);
      return new OneDnnForward(stream, steps, input, batch, imageLength, logits, (int) dims[1], owned);
    }

    private boolean convolution(ConvolutionLayer layer) {
      var conf = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) layer.layerConf();
      if (dims.length != 4 || conf.getCnn2dDataFormat() != CNN2DFormat.NCHW || conf.getConvolutionMode() != ConvolutionMode.Same
          || conf.getStride()[0] != 1 || conf.getStride()[1] != 1 || conf.getDilation()[0] != 1
          || conf.getDilation()[1] != 1 || conf.getKernelSize()[0] % 2 == 0 || conf.getKernelSize()[1] % 2 == 0
          || !plainLayer(layer)) {
        return false;
      }
      Boolean relu = relu(conf.getActivationFn());
      if (relu == null) {
        return false;
      }
      int kh = conf.getKernelSize()[0];
      int kw = conf.getKernelSize()[1];
      long out = conf.getNOut();
      long[] outDims = {dims[0], out, dims[2], dims[3]};
      long[] pad = {(kh - 1) / 2, (kw - 1) / 2};
      dnnl_memory_desc_t srcAny = anyMd(dims);
      dnnl_memory_desc_t weightsAny = anyMd(new long[] {out, dims[1], kh, kw});
      dnnl_memory_desc_t biasMd = conf.hasBias() ? plainMd(new long[] {out}) : null; // null: no bias
      dnnl_memory_desc_t dstAny = anyMd(outDims);
      dnnl_convolution_desc_t desc = keep(new dnnl_convolution_desc_t());
      check(dnnl_convolution_forward_desc_init(desc, dnnl_forward_inference, dnnl_convolution_direct, srcAny,
          weightsAny, biasMd, dstAny, new long[] {1, 1}, pad, pad), "convolution desc");
      dnnl_primitive_desc pd = primitiveDesc(new const_dnnl_op_desc_t(desc), relu);
      // DL4J keeps convolution weights as [out, in, kh, kw] in 'c' order: oneDNN's plain oihw.
      INDArray weights = layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
      dnnl_memory weightsMemory = constant("W", weights.dup('c'), plainMd(new long[] {out, dims[1], kh, kw}),
          query(pd, dnnl_query_weights_md));
      dnnl_memory biasMemory = biasMd == null ? null
          : constant("b", layer.getParam(ConvolutionParamInitializer.BIAS_KEY).dup('c'), biasMd, biasMd);
      run(pd, weightsMemory, biasMemory, outDims);
      return true;
    }

    private boolean maxPooling(SubsamplingLayer layer) {
      var conf = (org.deeplearning4j.nn.conf.layers.SubsamplingLayer) layer.layerConf();
      if (dims.length != 4 || conf.getPoolingType() != PoolingType.MAX || conf.getCnn2dDataFormat() != CNN2DFormat.NCHW
          || conf.getDilation()[0] != 1 || conf.getDilation()[1] != 1
          || conf.getPadding()[0] != 0 || conf.getPadding()[1] != 0) {
        return false;
      }
      int[] kernel = conf.getKernelSize();
      int[] stride = conf.getStride();
      long[] outDims = new long[4];
      long[] padL = new long[2];
      long[] padR = new long[2];
      outDims[0] = dims[0];
      outDims[1] = dims[1];
      for (int d = 0; d < 2; d++) {
        long in = dims[2 + d];
        long o;
        if (conf.getConvolutionMode() == ConvolutionMode.Same) {
          o = (in + stride[d] - 1) / stride[d];
          long total = Math.max(0, (o - 1) * stride[d] + kernel[d] - in);
          padL[d] = total / 2;
          padR[d] = total - padL[d];
        } else if (conf.getConvolutionMode() == ConvolutionMode.Truncate) {
          o = (in - kernel[d]) / stride[d] + 1;
          padR[d] = 0; // leftover rows and columns are dropped, as DL4J does
        } else {
          return false;
        }
        outDims[2 + d] = o;
      }
      dnnl_memory_desc_t dstAny = anyMd(outDims);
      dnnl_pooling_desc_t desc = keep(new dnnl_pooling_desc_t());
      check(dnnl_pooling_forward_desc_init(desc, dnnl_forward_inference, dnnl_pooling_max, currentMd, dstAny,
          new long[] {stride[0], stride[1]}, new long[] {kernel[0], kernel[1]}, padL, padR), "pooling desc");
      dnnl_primitive_desc pd = primitiveDesc(new const_dnnl_op_desc_t(desc), false);
      run(pd, null, null, outDims);
      return true;
    }

    private boolean dense(BaseLayer<?> layer, boolean output) {
      var conf = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer.layerConf();
      if (!plainLayer(layer)) {
        return false;
      }
      IActivation activation = conf.getActivationFn();
      Boolean relu = output ? (activation instanceof ActivationSoftmax ? Boolean.FALSE : null) : relu(activation);
      if (relu == null) {
        return false;
      }
      long in = product(dims) / dims[0];
      if (conf.getNIn() != in) {
        return false;
      }
      long out = conf.getNOut();
      // DL4J keeps dense weights as [in, out] in 'f' order, i.e. out-major: oneDNN's plain "oi" (or
      // oihw over a 4-D source, which matches the NCHW flattening of CnnToFeedForwardPreProcessor).
      long[] weightDims = new long[dims.length];
      weightDims[0] = out; // the weights' dims are the source's with the batch replaced by the outputs
      System.arraycopy(dims, 1, weightDims, 1, dims.length - 1);
      long[] outDims = {dims[0], out};
      dnnl_memory_desc_t weightsAny = anyMd(weightDims);
      dnnl_memory_desc_t biasMd = layer.hasBias() ? plainMd(new long[] {out}) : null; // null: no bias
      dnnl_memory_desc_t dstAny = anyMd(outDims);
      dnnl_inner_product_desc_t desc = keep(new dnnl_inner_product_desc_t());
      check(dnnl_inner_product_forward_desc_init(desc, dnnl_forward_inference, anyMd(dims), weightsAny,
          biasMd, dstAny), "inner product desc");
      dnnl_primitive_desc pd = primitiveDesc(new const_dnnl_op_desc_t(desc), relu);
      INDArray weights = layer.getParam(DefaultParamInitializer.WEIGHT_KEY);
      // Transposing a copy in 'c' order gives [out, in] contiguous.
      dnnl_memory weightsMemory = constant("W", weights.transpose().dup('c'), plainMd(weightDims),
          query(pd, dnnl_query_weights_md));
      dnnl_memory biasMemory = biasMd == null ? null
          : constant("b", layer.getParam(DefaultParamInitializer.BIAS_KEY).dup('c'), biasMd, biasMd);
      run(pd, weightsMemory, biasMemory, outDims);
      return true;
    }

    /** True when the layer has nothing this chain would leave out (layer norm, weight noise). */
    private static boolean plainLayer(BaseLayer<?> layer) {
      return !layer.hasLayerNorm() && layer.layerConf().getWeightNoise() == null;
    }

    /** TRUE for ReLU (fused as a post-op), FALSE for identity, null for anything else. */
    private static Boolean relu(IActivation activation) {
      if (activation instanceof ActivationReLU r) {
        return r.getMax() == null && zeroOrUnset(r.getThreshold()) && zeroOrUnset(r.getNegativeSlope()) ? Boolean.TRUE : null;
      }
      return activation instanceof ActivationIdentity ? Boolean.FALSE : null;
    }

    private static boolean zeroOrUnset(Double value) {
      return value == null || value == 0.0;
    }

    private dnnl_primitive_desc primitiveDesc(const_dnnl_op_desc_t desc, boolean fusedRelu) {
      dnnl_primitive_attr attr = null;
      if (fusedRelu) {
        attr = keep(new dnnl_primitive_attr(), dnnl::dnnl_primitive_attr_destroy);
        check(dnnl_primitive_attr_create(attr), "attr");
        dnnl_post_ops postOps = keep(new dnnl_post_ops(), dnnl::dnnl_post_ops_destroy);
        check(dnnl_post_ops_create(postOps), "post ops");
        check(dnnl_post_ops_append_eltwise(postOps, 1.0f, dnnl_eltwise_relu, 0f, 0f), "relu post op");
        check(dnnl_primitive_attr_set_post_ops(attr, postOps), "set post ops");
      }
      dnnl_primitive_desc pd = keep(new dnnl_primitive_desc(), dnnl::dnnl_primitive_desc_destroy);
      check(dnnl_primitive_desc_create(pd, desc, attr, engine, null), "primitive desc");
      return pd;
    }

    /** Appends the layer's primitive, reordering the current activation first if it wants another layout. */
    private void run(dnnl_primitive_desc pd, dnnl_memory weights, dnnl_memory bias, long[] outDims) {
      dnnl_memory_desc_t wantedSrc = query(pd, dnnl_query_src_md);
      if (dnnl_memory_desc_equal(wantedSrc, currentMd) == 0) {
        dnnl_memory converted = memory(wantedSrc, buffer(wantedSrc));
        reorder(currentMd, currentMemory, wantedSrc, converted);
        currentMd = wantedSrc;
        currentMemory = converted;
      }
      dnnl_memory_desc_t dstMd = query(pd, dnnl_query_dst_md);
      dnnl_memory dst = memory(dstMd, buffer(dstMd));
      List<Integer> ids = new ArrayList<>();
      List<dnnl_memory> mems = new ArrayList<>();
      ids.add(DNNL_ARG_SRC);
      mems.add(currentMemory);
      if (weights != null) {
        ids.add(DNNL_ARG_WEIGHTS);
        mems.add(weights);
      }
      if (bias != null) {
        ids.add(DNNL_ARG_BIAS);
        mems.add(bias);
      }
      ids.add(DNNL_ARG_DST);
      mems.add(dst);
      dnnl_exec_arg_t args = keep(new dnnl_exec_arg_t(ids.size()));
      for (int i = 0; i < ids.size(); i++) {
        args.position(i).arg(ids.get(i)).memory(mems.get(i));
      }
      args.position(0);
      dnnl_primitive primitive = keep(new dnnl_primitive(), dnnl::dnnl_primitive_destroy);
      check(dnnl_primitive_create(primitive, pd), "primitive");
      steps.add(new Step(primitive, args, ids.size()));
      currentMd = dstMd;
      currentMemory = dst;
      dims = outDims;
    }

    /** A reorder step from one layout to another, appended to the chain. */
    private void reorder(dnnl_memory_desc_t fromMd, dnnl_memory from, dnnl_memory_desc_t toMd, dnnl_memory to) {
      steps.add(reorderStep(fromMd, from, toMd, to));
    }

    private Step reorderStep(dnnl_memory_desc_t fromMd, dnnl_memory from, dnnl_memory_desc_t toMd, dnnl_memory to) {
      dnnl_primitive_desc pd = keep(new dnnl_primitive_desc(), dnnl::dnnl_primitive_desc_destroy);
      check(dnnl_reorder_primitive_desc_create(pd, fromMd, engine, toMd, engine, null), "reorder desc");
      dnnl_primitive primitive = keep(new dnnl_primitive(), dnnl::dnnl_primitive_destroy);
      check(dnnl_primitive_create(primitive, pd), "reorder");
      dnnl_exec_arg_t args = keep(new dnnl_exec_arg_t(2));
      args.position(0).arg(DNNL_ARG_FROM).memory(from);
      args.position(1).arg(DNNL_ARG_TO).memory(to);
      args.position(0);
      return new Step(primitive, args, 2);
    }

    /**
     * Weights or biases in the layout the primitive wants, reordered once: taken from {@link Shared} when
     * another chain already made them in that layout, else made now and kept there.
     */
    private dnnl_memory constant(String param, INDArray plainValues, dnnl_memory_desc_t plainMd,
        dnnl_memory_desc_t wantedMd) {
      String key = layerIndex + ":" + param;
      synchronized (shared) {
        for (Shared.Constant made : shared.constants) {
          if (made.key().equals(key) && dnnl_memory_desc_equal(made.md(), wantedMd) != 0) {
            return made.memory();
          }
        }
        target = shared.owned;
        try {
          dnnl_memory_desc_t md = copyOf(wantedMd); // the chain's own copy goes when the chain is closed
          dnnl_memory memory = reordered(plainValues, plainMd, md);
          shared.constants.add(new Shared.Constant(key, md, memory));
          return memory;
        } finally {
          target = owned;
        }
      }
    }

    /** The values in {@code wantedMd}'s layout, recorded in {@link #target}; the plain copy is freed at once. */
    private dnnl_memory reordered(INDArray plainValues, dnnl_memory_desc_t plainMd, dnnl_memory_desc_t wantedMd) {
      if (dnnl_memory_desc_equal(plainMd, wantedMd) != 0) {
        return plainMemory(plainValues, plainMd);
      }
      dnnl_memory wanted = memory(wantedMd, buffer(wantedMd));
      List<Runnable> keeper = target;
      List<Runnable> scratch = new ArrayList<>();
      target = scratch;
      try {
        Step once = reorderStep(plainMd, plainMemory(plainValues, plainMd), wantedMd, wanted);
        check(dnnl_primitive_execute(once.primitive(), stream, once.argCount(), once.args()), "weights reorder");
        check(dnnl_stream_wait(stream), "stream wait");
      } finally {
        target = keeper;
        free(scratch);
      }
      return wanted;
    }

    private dnnl_memory plainMemory(INDArray values, dnnl_memory_desc_t plainMd) {
      FloatPointer plain = buffer(plainMd);
      plain.put(values.data().asFloat());
      return memory(plainMd, plain);
    }

    private dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what) {
      // Copied: the queried descriptor lives inside pd, which is kept anyway, but a copy is independent.
      return copyOf(dnnl_primitive_desc_query_md(pd, what, 0));
    }

    private dnnl_memory_desc_t copyOf(dnnl_memory_desc_t md) {
      dnnl_memory_desc_t copy = keep(new dnnl_memory_desc_t());
      Pointer.memcpy(copy, md, md.sizeof());
      return copy;
    }

    private dnnl_memory_desc_t plainMd(long[] shape) {
      dnnl_memory_desc_t md = keep(new dnnl_memory_desc_t());
      long[] strides = new long[shape.length];
      long stride = 1;
      for (int d = shape.length - 1; d >= 0; d--) {
        strides[d] = stride;
        stride *= shape[d];
      }
      check(dnnl_memory_desc_init_by_strides(md, shape.length, shape, dnnl_f32, strides), "memory desc");
      return md;
    }

    private dnnl_memory_desc_t anyMd(long[] shape) {
      dnnl_memory_desc_t md = keep(new dnnl_memory_desc_t());
      check(dnnl_memory_desc_init_by_tag(md, shape.length, shape, dnnl_f32, dnnl_format_tag_any), "memory desc");
      return md;
    }

    /**
     * A zeroed buffer for {@code md}. oneDNN asks for 64-byte alignment only for speed; malloc's 16 bytes
     * measured no slower here, and keeps the pointer at position 0 (JavaCPP counts an untyped argument's
     * position in bytes but a FloatPointer's in floats, so an offset pointer would be read two ways).
     */
    private FloatPointer buffer(dnnl_memory_desc_t md) {
      long floats = (dnnl_memory_desc_get_size(md) + Float.BYTES - 1) / Float.BYTES;
      FloatPointer buffer = keep(new FloatPointer(floats));
      Pointer.memset(buffer, 0, floats * Float.BYTES);
      return buffer;
    }

    private dnnl_memory memory(dnnl_memory_desc_t md, Pointer data) {
      dnnl_memory memory = keep(new dnnl_memory(), dnnl::dnnl_memory_destroy);
      check(dnnl_memory_create(memory, md, engine, data), "memory");
      return memory;
    }

    /** A buffer or descriptor JavaCPP allocated: freed with the chain. */
    private <T extends Pointer> T keep(T pointer) {
      target.add(pointer::close);
      return pointer;
    }

    /** A oneDNN handle (filled in by a create call): destroyed with the chain if it was created. */
    private <T extends Pointer> T keep(T handle, java.util.function.Consumer<T> destroy) {
      target.add(() -> {
        if (!handle.isNull()) {
          destroy.accept(handle);
        }
      });
      return handle;
    }

    private static long product(long[] values) {
      long p = 1;
      for (long v : values) {
        p *= v;
      }
      return p;
    }
  }
}
