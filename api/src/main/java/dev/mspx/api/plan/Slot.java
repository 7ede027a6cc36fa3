package dev.mspx.api.plan;

import dev.mspx.api.DType;
import dev.mspx.api.Shape;

/**
 * A tensor of a plan. Batched slots ({@link SlotRole#inArena()}) carry their shape for one image
 * (leading dimension 1); {@link #shape(int)} gives it for a batch.
 */
public record Slot(int id, String name, SlotRole role, DType dtype, Shape shape) {

  public boolean batched() {
    return role.inArena();
  }

  /** The shape for a batch of {@code n} images (unchanged for unbatched slots). */
  public Shape shape(int n) {
    return batched() ? shape.with(0, n) : shape;
  }

  /** Bytes of one image's worth (or of the whole tensor, when unbatched). */
  public long bytes() {
    return shape.elements() * dtype.byteSize();
  }

  @Override
  public String toString() {
    String dims = shape.toString();
    return name + " " + dtype + (batched() ? "[N" + dims.substring(dims.indexOf(',') < 0 ? dims.length() - 1 : dims.indexOf(',')) : dims);
  }
}
