package dev.mspx.core;

import dev.mspx.api.Backend;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.Slot;
import dev.mspx.api.plan.SlotRole;
import dev.mspx.api.plan.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * One plan bound to a backend for batches of {@code n} images. Everything a step touches is allocated
 * here, once: the arena (one workspace of {@code arena.bytes(n)}, every activation and gradient a view
 * at its planned offset), the parameter gradients and the loss scalars. Running a step allocates
 * nothing.
 *
 * <p>A runtime is made for training (the arena of a training step; {@link #gradients()} allowed) or for
 * inference (the much smaller forward-only arena, for evaluation and sampling; no gradients).
 */
public final class PlanRuntime implements AutoCloseable {

  private final ExecutionPlan plan;
  private final Parameters parameters;
  private final Backend backend;
  private final int batch;
  private final Workspace arena;
  private final Tensor[] tensors;
  private final List<Tensor> owned = new ArrayList<>();

  /** What a runtime is for: which arena layout it uses. */
  public enum Mode {
    TRAINING,
    INFERENCE
  }

  private final Mode mode;

  /** A runtime for training. */
  public PlanRuntime(Parameters parameters, int batch) {
    this(parameters, batch, Mode.TRAINING);
  }

  public PlanRuntime(Parameters parameters, int batch, Mode mode) {
    this.mode = mode;
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1, got " + batch);
    }
    this.plan = parameters.plan();
    this.parameters = parameters;
    this.backend = parameters.backend();
    this.batch = batch;
    this.tensors = new Tensor[plan.slots().size()];
    dev.mspx.api.plan.ArenaLayout layout = mode == Mode.TRAINING ? plan.arena() : plan.inferenceArena();
    this.arena = backend.workspace(Math.max(1, layout.bytes(batch)), plan.spec().name() + "." + mode.name().toLowerCase(java.util.Locale.ROOT) + "-arena[" + batch + "]");
    try {
      for (Slot s : plan.slots()) {
        switch (s.role()) {
          case INPUT, ACTIVATION, GRADIENT -> {
            long offset = layout.offset(s.id());
            if (offset >= 0) {
              tensors[s.id()] = arena.view(offset * batch, s.shape(batch), s.dtype(), s.name());
            }
          }
          case PARAMETER, MASK -> tensors[s.id()] = parameters.tensor(s.id());
          case PARAMETER_GRADIENT -> {
            if (mode == Mode.TRAINING) {
              Tensor t = backend.allocate(s.shape(batch), s.dtype(), s.name());
              owned.add(t);
              tensors[s.id()] = t;
            }
          }
          case SCALAR -> {
            Tensor t = backend.allocate(s.shape(batch), s.dtype(), s.name());
            owned.add(t);
            tensors[s.id()] = t;
          }
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public ExecutionPlan plan() {
    return plan;
  }

  public Parameters parameters() {
    return parameters;
  }

  public Backend backend() {
    return backend;
  }

  public int batch() {
    return batch;
  }

  public Mode mode() {
    return mode;
  }

  /** The tensor of a slot (a view into the arena for activations). */
  public Tensor tensor(int slot) {
    Tensor t = tensors[slot];
    if (t == null) {
      throw new IllegalStateException("slot " + plan.slot(slot) + " has no memory in this " + mode.name().toLowerCase(java.util.Locale.ROOT) + " runtime (it is never live in its schedule)");
    }
    return t;
  }

  /** Copies a batch of images ({@code uint8 [n, C, H, W]}) into the plan's input. */
  public void setImages(HostTensor images) {
    backend.copyFromHost(images, tensor(plan.image()));
  }

  /** Copies conditioning input {@code i} (labels {@code int32 [n]} or vectors {@code float32 [n, D]}). */
  public void setConditioning(int i, HostTensor values) {
    backend.copyFromHost(values, tensor(plan.conditioning().get(i)));
  }

  /** Cuts the input images into every network's inputs (the pyramid and its pixel groups). */
  public void prepare() {
    run(plan.prepare());
  }

  /** Forward pass of one network: its logits from its inputs. */
  public void forward(Network n) {
    run(n.trunk());
    run(n.head());
  }

  /** The network's per-sub-pixel nll and its sum (nats), from the logits of {@link #forward}. */
  public void loss(Network n) {
    run(n.loss());
  }

  /**
   * Backward pass of one network after {@link #forward} and {@link #loss}: every parameter gradient of
   * the network, for a loss whose gradient per sub-pixel nll is {@code dnllScale}.
   */
  public void backward(Network n, double dnllScale) {
    if (mode != Mode.TRAINING) {
      throw new IllegalStateException("this runtime of " + plan.spec().name() + " is for inference: make one with Mode.TRAINING to take gradients");
    }
    backend.fill(tensor(n.dnll()), dnllScale);
    run(n.backward());
  }

  /**
   * The gradient pass of one training step on the images already set: prepare, then per network
   * forward, loss, backward, for the loss "mean bits per dimension of the batch". Returns the loss
   * scalars of the networks (nats, summed over the batch), still on the backend.
   */
  public List<Tensor> gradients() {
    return gradients(batch);
  }

  /**
   * As {@link #gradients()}, for the loss "mean bits per dimension over {@code meanOver} images" of
   * which this runtime's batch is a part: a replica of data-parallel training passes the global batch,
   * so that the replicas' gradients sum to the gradient of the global batch's mean.
   */
  public List<Tensor> gradients(int meanOver) {
    if (meanOver < batch) {
      throw new IllegalArgumentException("the loss is a mean over at least this runtime's " + batch + " images, got " + meanOver);
    }
    prepare();
    double scale = plan.spec().bitsPerDim(1.0, meanOver); // d(bits/dim) / d(nats of one sub-pixel)
    List<Tensor> losses = new ArrayList<>();
    for (Network n : plan.networks()) {
      forward(n);
      loss(n);
      backward(n, scale);
      losses.add(tensor(n.lossSum()));
    }
    return losses;
  }

  /** The mean bits per dimension of the batch, after {@link #gradients()} or a forward/loss pass. */
  public double bitsPerDim() {
    return plan.spec().bitsPerDim(nats(), batch);
  }

  /** The batch's loss in nats (every network's loss sum, added in network order), after a loss pass. */
  public double nats() {
    double nats = 0;
    try (HostMemory host = HostMemory.create("loss")) {
      for (Network n : plan.networks()) {
        try (HostTensor h = backend.toHost(tensor(n.lossSum()), host)) {
          nats += h.getFloat(0);
        }
      }
    }
    return nats;
  }

  /** The gradient tensor of a parameter, by name. */
  public Tensor gradient(String parameter) {
    ParameterSpec p = parameters.spec(parameter);
    return tensor(p.gradient());
  }

  /** Runs steps in order on the backend. */
  public void run(List<Step> steps) {
    for (Step s : steps) {
      execute(s);
    }
  }

  private Tensor t(int slot) {
    return slot < 0 ? null : tensor(slot);
  }

  private List<Tensor> ts(List<Integer> slots) {
    List<Tensor> out = new ArrayList<>(slots.size());
    for (int s : slots) {
      out.add(tensor(s));
    }
    return out;
  }

  private void execute(Step step) {
    Backend b = backend;
    switch (step) {
      case Step.Conv s -> b.conv2d(s.op(), t(s.x()), t(s.w()), t(s.mask()), t(s.bias()), t(s.y()));
      case Step.ConvBackwardData s -> b.conv2dBackwardData(s.op(), t(s.dy()), t(s.w()), t(s.mask()), t(s.dx()));
      case Step.ConvBackwardFilter s ->
          b.conv2dBackwardFilter(s.op(), t(s.x()), t(s.dy()), t(s.mask()), t(s.dw()), t(s.dbias()));
      case Step.Gate s -> b.gate(t(s.pre()), t(s.out()));
      case Step.GateBackward s -> b.gateBackward(t(s.pre()), t(s.dout()), t(s.dpre()));
      case Step.Relu s -> b.relu(t(s.x()), t(s.y()));
      case Step.ReluBackward s -> b.reluBackward(t(s.x()), t(s.dy()), t(s.dx()));
      case Step.Add s -> b.add(t(s.a()), t(s.b()), t(s.out()));
      case Step.AddChannelBias s -> b.addChannelBias(t(s.x()), t(s.bias()), t(s.out()));
      case Step.SumSpatial s -> b.sumSpatial(t(s.dy()), t(s.out()));
      case Step.EmbeddingLookup s -> b.embeddingLookup(t(s.table()), t(s.indices()), t(s.out()));
      case Step.EmbeddingBackward s -> b.embeddingBackward(t(s.indices()), t(s.dout()), t(s.dtable()));
      case Step.Matmul s -> b.matmul(t(s.a()), s.transposeA(), t(s.b()), s.transposeB(), t(s.out()));
      case Step.Dequantize s -> b.dequantize(t(s.x()), s.levels(), t(s.out()));
      case Step.Concat s -> b.concatChannels(ts(s.parts()), t(s.out()));
      case Step.Split s -> b.splitChannels(t(s.in()), ts(s.parts()));
      case Step.SpaceToDepth s -> b.spaceToDepth(t(s.x()), s.block(), t(s.out()));
      case Step.DepthToSpace s -> b.depthToSpace(t(s.x()), s.block(), t(s.out()));
      case Step.SoftmaxCrossEntropy s -> b.softmaxCrossEntropy(t(s.logits()), t(s.targets()), t(s.nll()));
      case Step.SoftmaxCrossEntropyBackward s ->
          b.softmaxCrossEntropyBackward(t(s.logits()), t(s.targets()), t(s.dnll()), t(s.dlogits()));
      case Step.Sum s -> b.sum(t(s.x()), t(s.out()));
    }
  }

  /** Releases the arena, the gradients and the scalars; the parameters stay with their owner. */
  @Override
  public void close() {
    for (Tensor t : owned) {
      t.close();
    }
    owned.clear();
    for (Slot s : plan.slots()) {
      if (s.role() == SlotRole.INPUT || s.role() == SlotRole.ACTIVATION || s.role() == SlotRole.GRADIENT) {
        Tensor view = tensors[s.id()];
        if (view != null) {
          view.close();
        }
      }
    }
    arena.close();
  }
}
