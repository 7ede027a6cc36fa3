package dev.mspx.api;

/** Element types of tensors. {@code UINT8} holds images and targets, {@code INT32} indices. */
public enum DType {
  FLOAT32(4),
  INT32(4),
  UINT8(1);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
