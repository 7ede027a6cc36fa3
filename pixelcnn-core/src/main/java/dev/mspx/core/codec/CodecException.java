package dev.mspx.core.codec;

/**
 * A compressed file that cannot be decoded as it is: not an mspx file, corrupt or truncated, made with
 * another model or other weights, or for a backend that computes different logits. The message says
 * which, and what to do. An {@link IllegalArgumentException}: the file is a bad input.
 */
public final class CodecException extends IllegalArgumentException {

  public CodecException(String message) {
    super(message);
  }
}
