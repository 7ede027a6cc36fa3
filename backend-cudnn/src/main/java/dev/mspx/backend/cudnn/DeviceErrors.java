package dev.mspx.backend.cudnn;

/**
 * The error word kernels write when an input value is out of range (see {@code report} in
 * mspx_kernels.cu): {@code [kind, flat index, value, limit]}. The host cannot check such values
 * without copying the inputs back, so the kernels record the first one and the backend reports it
 * at its next synchronisation.
 */
final class DeviceErrors {

  /** Bytes of the word on the device: four unsigned 64-bit values. */
  static final long BYTES = 4 * Long.BYTES;

  static final long TARGET_NOT_BELOW_LEVELS = 1;
  static final long INDEX_OUT_OF_RANGE = 2;

  private DeviceErrors() {}

  /** The exception for a recorded error, naming the ops that can have written it. */
  static IllegalArgumentException describe(long kind, long index, long value, long limit) {
    String what =
        kind == TARGET_NOT_BELOW_LEVELS
            ? "a target sub-pixel (uint8 element "
                + index
                + " of the targets) is "
                + value
                + ", not below L = "
                + limit
                + " (softmaxCrossEntropy or its backward); targets must hold levels 0..L-1"
            : kind == INDEX_OUT_OF_RANGE
                ? "an embedding index (element "
                    + index
                    + " of the indices) is "
                    + (int) value
                    + ", outside the table's rows 0.."
                    + (limit - 1)
                    + " (embeddingLookup or embeddingBackward)"
                : "a kernel reported error kind " + kind + " (index " + index + ", value " + value
                    + ", limit " + limit + "), unknown to this version of mspx";
    return new IllegalArgumentException(
        "cudnn: an op issued since the last synchronisation found bad input: " + what
            + "; the outputs of that op are NaN");
  }
}
