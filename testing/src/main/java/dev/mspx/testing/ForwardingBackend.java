package dev.mspx.testing;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Backend;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.DType;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import java.util.List;
import java.util.Optional;

/**
 * A backend that hands every call to another: override one op to make a decorator (a counter, a
 * fault injector, a deliberately broken kernel for a test). Tensors are the delegate's own, so
 * ownership checks pass through unchanged.
 */
public class ForwardingBackend implements Backend {

  private final Backend delegate;

  public ForwardingBackend(Backend delegate) {
    this.delegate = delegate;
  }

  protected Backend delegate() {
    return delegate;
  }

  @Override public String name() { return delegate.name(); }
  @Override public long outstandingBytes() { return delegate.outstandingBytes(); }
  @Override public Tensor allocate(Shape shape, DType dtype, String label) { return delegate.allocate(shape, dtype, label); }
  @Override public Workspace workspace(long bytes, String label) { return delegate.workspace(bytes, label); }
  @Override public void copyFromHost(HostTensor src, Tensor dst) { delegate.copyFromHost(src, dst); }
  @Override public void copyToHost(Tensor src, HostTensor dst) { delegate.copyToHost(src, dst); }
  @Override public Optional<HostTensor> hostView(Tensor tensor) { return delegate.hostView(tensor); }
  @Override public void synchronize() { delegate.synchronize(); }
  @Override public void conv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) { delegate.conv2d(op, x, w, mask, bias, y); }
  @Override public void conv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx) { delegate.conv2dBackwardData(op, dy, w, mask, dx); }
  @Override public void conv2dBackwardFilter(Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias) { delegate.conv2dBackwardFilter(op, x, dy, mask, dw, dbias); }
  @Override public void gate(Tensor pre, Tensor out) { delegate.gate(pre, out); }
  @Override public void gateBackward(Tensor pre, Tensor dout, Tensor dpre) { delegate.gateBackward(pre, dout, dpre); }
  @Override public void relu(Tensor x, Tensor y) { delegate.relu(x, y); }
  @Override public void reluBackward(Tensor x, Tensor dy, Tensor dx) { delegate.reluBackward(x, dy, dx); }
  @Override public void add(Tensor a, Tensor b, Tensor out) { delegate.add(a, b, out); }
  @Override public void scale(Tensor x, double alpha, Tensor out) { delegate.scale(x, alpha, out); }
  @Override public void addChannelBias(Tensor x, Tensor bias, Tensor out) { delegate.addChannelBias(x, bias, out); }
  @Override public void sumSpatial(Tensor dy, Tensor out) { delegate.sumSpatial(dy, out); }
  @Override public void dequantize(Tensor x, int levels, Tensor out) { delegate.dequantize(x, levels, out); }
  @Override public void concatChannels(List<Tensor> parts, Tensor out) { delegate.concatChannels(parts, out); }
  @Override public void splitChannels(Tensor in, List<Tensor> parts) { delegate.splitChannels(in, parts); }
  @Override public void spaceToDepth(Tensor x, int block, Tensor out) { delegate.spaceToDepth(x, block, out); }
  @Override public void depthToSpace(Tensor x, int block, Tensor out) { delegate.depthToSpace(x, block, out); }
  @Override public void copy(Tensor src, Tensor dst) { delegate.copy(src, dst); }
  @Override public void fill(Tensor t, double value) { delegate.fill(t, value); }
  @Override public void softmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) { delegate.softmaxCrossEntropy(logits, targets, nll); }
  @Override public void softmaxCrossEntropyBackward(Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits) { delegate.softmaxCrossEntropyBackward(logits, targets, dnll, dlogits); }
  @Override public void sampleCategorical(Tensor logits, Tensor uniforms, Tensor out) { delegate.sampleCategorical(logits, uniforms, out); }
  @Override public void embeddingLookup(Tensor table, Tensor indices, Tensor out) { delegate.embeddingLookup(table, indices, out); }
  @Override public void embeddingBackward(Tensor indices, Tensor dout, Tensor dtable) { delegate.embeddingBackward(indices, dout, dtable); }
  @Override public void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) { delegate.matmul(a, transposeA, b, transposeB, out); }
  @Override public void sum(Tensor x, Tensor out) { delegate.sum(x, out); }
  @Override public void sumOfSquares(Tensor x, Tensor out) { delegate.sumOfSquares(x, out); }
  @Override public void adamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) { delegate.adamUpdate(op, step, param, grad, m, v); }
  @Override public void close() { delegate.close(); }
}
