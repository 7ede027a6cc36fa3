package dev.mspx.spark;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A replica's gradient tensors as one host {@code float[]}, in the plan's parameter order, with
 * {@link #CONTROL} more slots after them for what travels with the gradients (the loss, the stop
 * flag): one array is what a host collective sums. The staging host tensors are made once.
 */
final class GradientBuffer implements AutoCloseable {

  /** Slots after the gradients: {@link #NATS} and {@link #STOP}. */
  static final int CONTROL = 2;

  private final Backend backend;
  private final List<Tensor> tensors;
  private final HostMemory host = HostMemory.create("gradient-buffer");
  private final List<HostTensor> staging = new ArrayList<>();
  private final float[] flat;
  private final int gradients;

  GradientBuffer(Backend backend, List<Tensor> tensors) {
    this.backend = backend;
    this.tensors = List.copyOf(tensors);
    long n = 0;
    for (Tensor t : tensors) {
      if (t.dtype() != DType.FLOAT32) {
        throw new IllegalArgumentException("gradient " + t.label() + " is " + t.dtype() + ", not float32");
      }
      staging.add(host.allocate(t.shape(), DType.FLOAT32, t.label() + ".staging"));
      n += t.shape().elements();
    }
    this.gradients = Math.toIntExact(n);
    this.flat = new float[gradients + CONTROL];
  }

  /** Index of the loss (nats) slot. */
  int nats() {
    return gradients;
  }

  /** Index of the stop-flag slot. */
  int stop() {
    return gradients + 1;
  }

  /** Number of gradient elements (without the control slots). */
  int gradients() {
    return gradients;
  }

  /** The array a collective sums; {@link #read} fills its gradient part. */
  float[] flat() {
    return flat;
  }

  /** Copies every gradient tensor into {@link #flat()}; returns it. */
  float[] read() {
    int at = 0;
    for (int i = 0; i < tensors.size(); i++) {
      HostTensor h = staging.get(i);
      backend.copyToHost(tensors.get(i), h);
      int n = (int) h.shape().elements();
      MemorySegment.copy(h.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, flat, at, n);
      at += n;
    }
    return flat;
  }

  /** Copies the gradient part of {@link #flat()} back into the gradient tensors. */
  void write() {
    int at = 0;
    for (int i = 0; i < tensors.size(); i++) {
      HostTensor h = staging.get(i);
      int n = (int) h.shape().elements();
      MemorySegment.copy(flat, at, h.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, n);
      backend.copyFromHost(h, tensors.get(i));
      at += n;
    }
  }

  @Override
  public void close() {
    staging.forEach(HostTensor::close);
    staging.clear();
    host.close();
  }
}
