package dev.mspx.core;

import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import dev.mspx.core.data.ImageSet;
import java.lang.foreign.MemorySegment;

/** A small in-memory image set for tests: images as one byte array, optional labels. */
final class ArrayImageSet implements ImageSet {

  private final byte[] pixels;
  private final int[] labels;
  private final int count;
  private final int c;
  private final int side;
  private final int classes;

  ArrayImageSet(int[][][][] img, int[] labels, int classes) {
    this.count = img.length;
    this.c = img[0].length;
    this.side = img[0][0].length;
    this.pixels = new byte[count * c * side * side];
    int k = 0;
    for (int[][][] im : img) {
      for (int[][] ch : im) {
        for (int[] row : ch) {
          for (int v : row) {
            pixels[k++] = (byte) v;
          }
        }
      }
    }
    this.labels = labels;
    this.classes = classes;
  }

  public int size() {
    return count;
  }

  public int channels() {
    return c;
  }

  public int height() {
    return side;
  }

  public int width() {
    return side;
  }

  public boolean hasLabels() {
    return labels != null;
  }

  public int classes() {
    return classes;
  }

  public void gather(int[] indices, HostTensor out) {
    int bytes = imageBytes();
    MemorySegment dst = out.segment();
    for (int i = 0; i < indices.length; i++) {
      MemorySegment.copy(MemorySegment.ofArray(pixels), (long) indices[i] * bytes, dst, (long) i * bytes, bytes);
    }
  }

  public void gatherLabels(int[] indices, HostTensor out) {
    for (int i = 0; i < indices.length; i++) {
      out.setInt(i, labels[indices[i]]);
    }
  }

  public int label(int index) {
    return labels[index];
  }

  public HostTensor view(int from, int n, MemoryOwner owner) {
    throw new IllegalStateException("ArrayImageSet keeps its images on the Java heap: gather them instead");
  }

  public String source() {
    return "test arrays";
  }

  public String describe() {
    return count + " test images";
  }

  public void close() {}
}
