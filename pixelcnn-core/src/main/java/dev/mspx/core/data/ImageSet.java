package dev.mspx.core.data;

import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;

/**
 * A fixed set of {@code uint8} images of one shape {@code [C, H, W]}, optionally with class labels,
 * stored contiguously image after image (channel-major inside an image), so that a run of images is
 * one block of memory that {@link #view} hands out without copying.
 *
 * <p>Reads may run concurrently from several threads. {@link #close()} releases the memory (for a
 * memory-mapped file, the mapping): every {@link #view} taken from the set is invalid afterwards,
 * and touching its segment throws {@link IllegalStateException} rather than reading freed memory.
 */
public interface ImageSet extends AutoCloseable {

  /** Number of images. */
  int size();

  int channels();

  int height();

  int width();

  /** Bytes per image: {@code channels() * height() * width()}. */
  default int imageBytes() {
    return channels() * height() * width();
  }

  boolean hasLabels();

  /**
   * Number of classes the labels range over ({@code 0..classes()-1}); 0 when there are no labels.
   */
  int classes();

  /**
   * Copies the images at {@code indices} (in that order, repeats allowed) into {@code out}, which
   * must be {@code uint8 [indices.length, C, H, W]}.
   */
  void gather(int[] indices, HostTensor out);

  /**
   * Copies the labels of {@code indices} into {@code out}, which must be {@code int32
   * [indices.length]}.
   */
  void gatherLabels(int[] indices, HostTensor out);

  /** The label of image {@code index}. */
  int label(int index);

  /**
   * A tensor {@code uint8 [n, C, H, W]} over images {@code [from, from + n)} without copying: its
   * segment is this set's own memory (the file mapping for an Arrow file). Closing the view
   * releases nothing; it is valid until this set is closed.
   */
  HostTensor view(int from, int n, MemoryOwner owner);

  /**
   * Where the images came from: the {@code mspx.source} of an Arrow file, a folder, a file list.
   */
  String source();

  /** One line for logs: the file, the count, the image shape, the labels. */
  String describe();

  /** Releases the images' memory; harmless when repeated. */
  @Override
  void close();
}
