package dev.mspx.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArrowImageFileTest {

  @TempDir Path dir;

  static byte[] randomImages(int n, int row, long seed) {
    byte[] b = new byte[n * row];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  private Path writeSmall(String name, int n, boolean labels) {
    Path f = dir.resolve(name);
    int[] y = null;
    if (labels) {
      y = new int[n];
      for (int i = 0; i < n; i++) {
        y[i] = (i * 7) % 10;
      }
    }
    ArrowImageFile.write(f, 3, 4, 5, randomImages(n, 60, 1), y, labels ? 10 : 0, "test source");
    return f;
  }

  @Test
  void roundTripWithLabels() {
    int n = 37;
    byte[] images = randomImages(n, 60, 1);
    Path f = writeSmall("a.arrow", n, true);
    try (ImageSet set = ArrowImageFile.open(f);
        HostMemory host = HostMemory.create("test")) {
      assertEquals(n, set.size());
      assertEquals(3, set.channels());
      assertEquals(4, set.height());
      assertEquals(5, set.width());
      assertTrue(set.hasLabels());
      assertEquals(10, set.classes());
      assertEquals("test source", set.source());
      assertTrue(set.describe().contains("a.arrow") && set.describe().contains("37 images"));
      int[] idx = {36, 0, 5, 5};
      try (HostTensor out = host.allocate(Shape.nchw(4, 3, 4, 5), DType.UINT8, "out");
          HostTensor labels = host.allocate(Shape.of(4), DType.INT32, "labels")) {
        set.gather(idx, out);
        set.gatherLabels(idx, labels);
        byte[] got = out.toByteArray();
        for (int i = 0; i < idx.length; i++) {
          assertArrayEquals(
              Arrays.copyOfRange(images, idx[i] * 60, idx[i] * 60 + 60),
              Arrays.copyOfRange(got, i * 60, i * 60 + 60));
          assertEquals((idx[i] * 7) % 10, labels.getInt(i));
          assertEquals((idx[i] * 7) % 10, set.label(idx[i]));
        }
      }
      try (HostTensor v = set.view(3, 10, host)) {
        assertEquals(Shape.nchw(10, 3, 4, 5), v.shape());
        assertArrayEquals(Arrays.copyOfRange(images, 180, 780), v.toByteArray());
      }
      assertEquals(0, host.outstandingBytes());
    }
  }

  @Test
  void roundTripWithoutLabelsAndWithWideLabels() {
    Path f = writeSmall("plain.arrow", 3, false);
    try (ImageSet set = ArrowImageFile.open(f)) {
      assertFalse(set.hasLabels());
      assertEquals(0, set.classes());
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> set.label(0));
      assertTrue(e.getMessage().contains("no labels"), e.getMessage());
    }
    // More than 128 classes do not fit Int(8): the writer switches to Int(32).
    Path wide = dir.resolve("wide.arrow");
    int[] y = {0, 299, 150};
    ArrowImageFile.write(wide, 1, 2, 2, new byte[12], y, 300, "wide");
    try (ImageSet set = ArrowImageFile.open(wide)) {
      assertEquals(300, set.classes());
      assertEquals(299, set.label(1));
      assertEquals(150, set.label(2));
    }
  }

  @Test
  void anyArrowReaderReadsTheFile() throws IOException {
    byte[] images = randomImages(5, 60, 1);
    Path f = writeSmall("interop.arrow", 5, true);
    try (BufferAllocator a = new RootAllocator();
        FileChannel ch = FileChannel.open(f);
        ArrowFileReader r = new ArrowFileReader(ch, a)) {
      assertTrue(r.loadNextBatch());
      VectorSchemaRoot root = r.getVectorSchemaRoot();
      assertEquals("3", root.getSchema().getCustomMetadata().get("mspx.channels"));
      assertEquals(ArrowImageFile.FORMAT, root.getSchema().getCustomMetadata().get("mspx.format"));
      FixedSizeBinaryVector img = (FixedSizeBinaryVector) root.getVector("image");
      assertArrayEquals(Arrays.copyOfRange(images, 120, 180), img.get(2));
      assertEquals(4, ((TinyIntVector) root.getVector("label")).get(2));
    }
  }

  @Test
  void viewsAreZeroCopySlicesOfTheMapping() {
    Path f = writeSmall("map.arrow", 20, true);
    HostTensor v;
    try (ImageSet set = ArrowImageFile.open(f);
        HostMemory host = HostMemory.create("test")) {
      MemorySegment mapping = ((SegmentImageSet) set).backing();
      assertTrue(mapping.isMapped(), "the file is memory-mapped");
      v = set.view(4, 3, host);
      MemorySegment s = v.segment();
      assertTrue(s.isMapped());
      assertTrue(s.address() >= mapping.address());
      assertTrue(s.address() + s.byteSize() <= mapping.address() + mapping.byteSize());
      // The same bytes, not a copy: view 0's segment and view 4's are 4 images apart.
      try (HostTensor v0 = set.view(0, 1, host)) {
        assertEquals(4L * 60, s.address() - v0.segment().address());
      }
      // No host memory was drawn for views.
      assertEquals(0, host.outstandingBytes());
      assertEquals(0, host.outstandingTensors());
    }
    // Closing the set unmaps the file: the view's memory is gone and says so instead of crashing.
    assertThrows(
        IllegalStateException.class,
        () -> v.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
  }

  @Test
  void closedSetRefusesUse() {
    ImageSet set = ArrowImageFile.open(writeSmall("c.arrow", 2, false));
    set.close();
    set.close();
    try (HostMemory host = HostMemory.create("test")) {
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> set.view(0, 1, host));
      assertTrue(e.getMessage().contains("c.arrow is closed"), e.getMessage());
    }
  }

  @Test
  void argumentsAreValidatedWithNamedInputs() {
    try (ImageSet set = ArrowImageFile.open(writeSmall("v.arrow", 4, false));
        HostMemory host = HostMemory.create("test");
        HostTensor wrongShape = host.allocate(Shape.nchw(2, 3, 4, 4), DType.UINT8, "batch");
        HostTensor wrongType = host.allocate(Shape.nchw(1, 3, 4, 5), DType.FLOAT32, "floats");
        HostTensor ok = host.allocate(Shape.nchw(1, 3, 4, 5), DType.UINT8, "ok")) {
      var e1 =
          assertThrows(
              IllegalArgumentException.class, () -> set.gather(new int[] {0, 1}, wrongShape));
      assertTrue(e1.getMessage().contains("uint8[2, 3, 4, 5]"), e1.getMessage());
      assertTrue(e1.getMessage().contains("batch uint8[2, 3, 4, 4]"), e1.getMessage());
      var e2 =
          assertThrows(IllegalArgumentException.class, () -> set.gather(new int[] {0}, wrongType));
      assertTrue(e2.getMessage().contains("floats float32"), e2.getMessage());
      var e3 = assertThrows(IndexOutOfBoundsException.class, () -> set.gather(new int[] {4}, ok));
      assertTrue(e3.getMessage().contains("indices[0] = 4"), e3.getMessage());
      assertTrue(e3.getMessage().contains("images 0..3"), e3.getMessage());
      assertThrows(IllegalArgumentException.class, () -> set.gather(new int[0], ok));
      var e4 = assertThrows(IndexOutOfBoundsException.class, () -> set.view(3, 2, host));
      assertTrue(e4.getMessage().contains("from=3, n=2"), e4.getMessage());
      assertThrows(IndexOutOfBoundsException.class, () -> set.view(0, 0, host));
      assertThrows(IndexOutOfBoundsException.class, () -> set.view(-1, 1, host));
      var e5 = assertThrows(IllegalStateException.class, () -> set.gatherLabels(new int[] {0}, ok));
      assertTrue(e5.getMessage().contains("no labels"), e5.getMessage());
    }
  }

  @Test
  void writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
    Path f = writeSmall("t.arrow", 5, false);
    writeSmall("t.arrow", 7, true);
    try (ImageSet set = ArrowImageFile.open(f)) {
      assertEquals(7, set.size());
    }
    // A write that fails half-way leaves the old file whole and no temporary file behind.
    try (ImageSet failing =
        new FailingSet(ImageSets.fromBytes(1, 2, 2, new byte[4 * 3000], null, 0, "x"))) {
      assertThrows(IllegalStateException.class, () -> ArrowImageFile.write(f, failing, "x"));
    }
    try (ImageSet set = ArrowImageFile.open(f)) {
      assertEquals(7, set.size());
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(f), s.toList());
    }
  }

  @Test
  void truncatedFilesAreRefusedWithTheOffset() throws IOException {
    Path f = writeSmall("full.arrow", 30, true);
    byte[] whole = Files.readAllBytes(f);
    for (int cut :
        new int[] {0, 5, 8, 17, 100, whole.length / 2, whole.length - 11, whole.length - 1}) {
      Path t = dir.resolve("cut" + cut + ".arrow");
      Files.write(t, Arrays.copyOf(whole, cut));
      DatasetException e = assertThrows(DatasetException.class, () -> ArrowImageFile.open(t));
      String m = e.getMessage();
      assertTrue(m.startsWith(t.toString() + ": at byte "), m);
      assertTrue(m.contains("Delete the file"), m);
      assertEquals(t, e.file());
    }
  }

  @Test
  void bodyCutOutUnderAnIntactFooterIsRefused() throws IOException {
    Path f = writeSmall("full.arrow", 30, true);
    byte[] whole = Files.readAllBytes(f);
    // Drop 1000 bytes from the middle of the image data: footer and trailer stay intact, but the
    // record batch the footer describes now runs into them.
    byte[] cut = new byte[whole.length - 1000];
    System.arraycopy(whole, 0, cut, 0, 400);
    System.arraycopy(whole, 1400, cut, 400, whole.length - 1400);
    Path t = dir.resolve("holed.arrow");
    Files.write(t, cut);
    DatasetException e = assertThrows(DatasetException.class, () -> ArrowImageFile.open(t));
    assertTrue(e.getMessage().contains("at byte"), e.getMessage());
    assertTrue(
        e.getMessage().contains("before the footer") || e.getMessage().contains("footer"),
        e.getMessage());
  }

  @Test
  void damageAnywhereIsRefusedOrHarmless() throws IOException {
    Path f = writeSmall("whole.arrow", 6, true);
    byte[] whole = Files.readAllBytes(f);
    Path t = dir.resolve("damaged.arrow");
    int refused = 0;
    for (int i = 0; i < whole.length; i++) {
      byte[] b = whole.clone();
      b[i] ^= (byte) 0xff;
      Files.write(t, b);
      // Either a DatasetException, or a set whose every image and label reads within bounds.
      try (ImageSet set = ArrowImageFile.open(t);
          HostMemory host = HostMemory.create("test");
          HostTensor out = host.allocate(Shape.nchw(6, 3, 4, 5), DType.UINT8, "out")) {
        set.gather(new int[] {0, 1, 2, 3, 4, 5}, out);
        for (int k = 0; k < set.size(); k++) {
          assertTrue(set.label(k) >= 0 && set.label(k) < set.classes());
        }
      } catch (DatasetException e) {
        refused++;
        assertTrue(e.getMessage().startsWith(t + ": at byte "), e.getMessage());
      }
    }
    // Image bytes carry no checksum, so damage there is invisible; the structure is not.
    assertTrue(refused > whole.length / 4, refused + " of " + whole.length + " refused");
  }

  @Test
  void wrongMagicIsRefusedAtByteZero() throws IOException {
    Path f = writeSmall("m.arrow", 3, false);
    byte[] b = Files.readAllBytes(f);
    b[0] = 'X';
    Files.write(f, b);
    DatasetException e = assertThrows(DatasetException.class, () -> ArrowImageFile.open(f));
    assertTrue(e.getMessage().contains("at byte 0: no Arrow IPC magic"), e.getMessage());
  }

  @Test
  void imageBufferLengthIsCheckedAgainstTheSchema() throws IOException {
    // Rewrite the metadata to claim larger images than the data buffer holds: the file is
    // well-formed Arrow, but mspx.height lies, so the column type no longer matches.
    Path f = dir.resolve("liar.arrow");
    writeRaw(f, imageField(60), null, meta("3", "4", "6", "1"), 4, 60);
    DatasetException e = assertThrows(DatasetException.class, () -> ArrowImageFile.open(f));
    assertTrue(e.getMessage().contains("column image is FixedSizeBinary(60)"), e.getMessage());
    assertTrue(e.getMessage().contains("expected FixedSizeBinary(72)"), e.getMessage());
  }

  @Test
  void wrongColumnTypesAndMetadataAreRefused() throws IOException {
    Path good = dir.resolve("good.arrow");
    writeRaw(good, imageField(60), null, meta("3", "4", "5", "1"), 4, 60);
    try (ImageSet set = ArrowImageFile.open(good)) {
      assertEquals(4, set.size());
    }

    Path varBinary = dir.resolve("varbinary.arrow");
    writeRaw(
        varBinary,
        Field.notNullable("image", new ArrowType.Binary()),
        null,
        meta("3", "4", "5", "1"),
        4,
        60);
    assertRefused(varBinary, "column image is Binary");

    Path floatLabel = dir.resolve("floatlabel.arrow");
    Map<String, String> m = new java.util.HashMap<>(meta("3", "4", "5", "1"));
    m.put("mspx.classes", "10");
    writeRaw(
        floatLabel,
        imageField(60),
        Field.notNullable("label", new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
        m,
        4,
        60);
    assertRefused(floatLabel, "expected label: Int(8, signed) or Int(32, signed)");

    Path noFormat = dir.resolve("noformat.arrow");
    Map<String, String> m2 = new java.util.HashMap<>(meta("3", "4", "5", "1"));
    m2.remove("mspx.format");
    writeRaw(noFormat, imageField(60), null, m2, 4, 60);
    assertRefused(noFormat, "mspx.format is missing");

    Path format2 = dir.resolve("format2.arrow");
    writeRaw(format2, imageField(60), null, meta("3", "4", "5", "2"), 4, 60);
    assertRefused(format2, "mspx.format is '2'");

    Path badChannels = dir.resolve("channels.arrow");
    writeRaw(badChannels, imageField(60), null, meta("three", "4", "5", "1"), 4, 60);
    assertRefused(badChannels, "mspx.channels is 'three'; expected a positive integer");
  }

  @Test
  void labelsOutsideTheClassesAreRefused() throws IOException {
    Path f = dir.resolve("labels.arrow");
    Map<String, String> m = new java.util.HashMap<>(meta("3", "4", "5", "1"));
    m.put("mspx.classes", "10");
    // writeRaw stores label i = 3i: four rows end at 9, a fifth row has 12.
    writeRaw(f, imageField(60), Field.notNullable("label", new ArrowType.Int(8, true)), m, 4, 60);
    Path g = dir.resolve("labels5.arrow");
    writeRaw(g, imageField(60), Field.notNullable("label", new ArrowType.Int(8, true)), m, 5, 60);
    try (ImageSet ok = ArrowImageFile.open(f)) {
      assertEquals(9, ok.label(3));
    }
    assertRefused(g, "label 4 is 12; the schema metadata says 10 classes");
  }

  private static void assertRefused(Path f, String expected) {
    DatasetException e = assertThrows(DatasetException.class, () -> ArrowImageFile.open(f));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(e.getMessage().startsWith(f + ": at byte "), e.getMessage());
  }

  private static Field imageField(int width) {
    return Field.notNullable("image", new ArrowType.FixedSizeBinary(width));
  }

  private static Map<String, String> meta(String c, String h, String w, String format) {
    Map<String, String> m = new java.util.HashMap<>();
    m.put("mspx.channels", c);
    m.put("mspx.height", h);
    m.put("mspx.width", w);
    m.put("mspx.format", format);
    m.put("mspx.source", "raw");
    return m;
  }

  /** An Arrow file with the given columns: images of {@code row} bytes, label i = 3i. */
  private static void writeRaw(
      Path f, Field image, Field label, Map<String, String> meta, int n, int row)
      throws IOException {
    try (BufferAllocator a = new RootAllocator()) {
      FieldVector img = image.createVector(a);
      img.allocateNew();
      byte[] bytes = randomImages(1, row, 3);
      for (int i = 0; i < n; i++) {
        if (img instanceof FixedSizeBinaryVector v) {
          v.setSafe(i, bytes);
        } else {
          ((VarBinaryVector) img).setSafe(i, bytes);
        }
      }
      img.setValueCount(n);
      List<FieldVector> vectors = new java.util.ArrayList<>(List.of(img));
      List<Field> fields = new java.util.ArrayList<>(List.of(image));
      if (label != null) {
        FieldVector l = label.createVector(a);
        l.allocateNew();
        for (int i = 0; i < n; i++) {
          if (l instanceof TinyIntVector t) {
            t.setSafe(i, 3 * i);
          } else {
            ((Float4Vector) l).setSafe(i, 3f * i);
          }
        }
        l.setValueCount(n);
        vectors.add(l);
        fields.add(label);
      }
      try (VectorSchemaRoot root = new VectorSchemaRoot(new Schema(fields, meta), vectors, n);
          FileChannel ch =
              FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          ArrowFileWriter w = new ArrowFileWriter(root, null, ch)) {
        w.start();
        w.writeBatch();
        w.end();
      }
    }
  }

  /** Fails after half the images have been gathered, as a disk or a bug might mid-write. */
  private record FailingSet(ImageSet inner) implements ImageSet {
    @Override
    public int size() {
      return inner.size();
    }

    @Override
    public int channels() {
      return inner.channels();
    }

    @Override
    public int height() {
      return inner.height();
    }

    @Override
    public int width() {
      return inner.width();
    }

    @Override
    public boolean hasLabels() {
      return false;
    }

    @Override
    public int classes() {
      return 0;
    }

    @Override
    public void gather(int[] indices, HostTensor out) {
      if (indices[0] >= inner.size() / 2) {
        throw new IllegalStateException("disk full (simulated)");
      }
      inner.gather(indices, out);
    }

    @Override
    public void gatherLabels(int[] indices, HostTensor out) {
      inner.gatherLabels(indices, out);
    }

    @Override
    public int label(int index) {
      return inner.label(index);
    }

    @Override
    public HostTensor view(int from, int n, dev.mspx.api.MemoryOwner owner) {
      return inner.view(from, n, owner);
    }

    @Override
    public String source() {
      return "failing";
    }

    @Override
    public String describe() {
      return "failing";
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
