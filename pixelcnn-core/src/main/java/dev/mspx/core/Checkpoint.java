package dev.mspx.core;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A training checkpoint as an Arrow IPC file: one row per tensor (parameters and Adam's moments, raw
 * little-endian float32), and in the schema's metadata everything else a resumed run needs — the
 * config and its plan fingerprint, the step, the data position (epoch, batch within it), the seed from
 * which every epoch's permutation is drawn (so the position and seed are the data order's whole RNG
 * state), and the optimiser settings.
 *
 * <p>Written to a temporary file beside the target, forced to disk and renamed over it, so a crash
 * never leaves a half-written checkpoint under the real name.
 */
public record Checkpoint(Map<String, String> metadata, Map<String, float[]> tensors) {

  public static final String FORMAT = "mspx.format";
  public static final String CONFIG = "mspx.config";
  public static final String MODEL = "mspx.model";
  public static final String FINGERPRINT = "mspx.fingerprint";
  public static final String STEP = "mspx.step";
  public static final String EPOCH = "mspx.epoch";
  public static final String BATCH_IN_EPOCH = "mspx.batch_in_epoch";
  public static final String SEED = "mspx.seed";
  public static final String BATCH = "mspx.batch";
  public static final String LEARNING_RATE = "mspx.learning_rate";
  public static final String CLIP = "mspx.clip";
  /** {@link #TRAINING} (parameters, Adam's moments, data position) or {@link #INFERENCE} (parameters only). */
  public static final String KIND = "mspx.kind";

  public static final String TRAINING = "training";
  public static final String INFERENCE = "inference";

  private static final String VERSION = "1";

  public Checkpoint {
    metadata = Map.copyOf(metadata);
    tensors = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
  }

  public String get(String key) {
    String v = metadata.get(key);
    if (v == null) {
      throw new CheckpointException("checkpoint has no " + key + " entry: it was not written by this version of mspx");
    }
    return v;
  }

  public long getLong(String key) {
    return Long.parseLong(get(key));
  }

  /** The catalog name of the model this checkpoint was made for (e.g. {@code fashion28}). */
  public String modelName() {
    return get(CONFIG);
  }

  /** Whether it carries what resuming training needs (Adam's moments and the data position). */
  public boolean isTraining() {
    // Checkpoints from before the kind was written were all training checkpoints.
    return !INFERENCE.equals(metadata.getOrDefault(KIND, TRAINING));
  }

  /** The step the parameters were taken at (0 when not recorded). */
  public long step() {
    String v = metadata.get(STEP);
    return v == null ? 0 : Long.parseLong(v);
  }

  /** The parameter values alone (no optimiser state), by parameter name, in the plan's order. */
  public Map<String, float[]> parameterValues(ExecutionPlan plan) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (ParameterSpec p : plan.parameters()) {
      out.put(p.name(), tensors.get(p.name()));
    }
    return out;
  }

  /**
   * What sampling and scoring need: the parameters, the model's name and fingerprint, and {@code
   * extra} metadata (the step they were taken at, say). No optimiser state, so about a third of a
   * training checkpoint; it cannot resume training.
   */
  public static Checkpoint inference(String modelName, Parameters parameters, Map<String, String> extra) {
    ExecutionPlan plan = parameters.plan();
    Map<String, String> meta = new HashMap<>(extra);
    meta.put(KIND, INFERENCE);
    meta.put(CONFIG, modelName);
    meta.put(MODEL, plan.spec().name());
    meta.put(FINGERPRINT, plan.spec().fingerprint());
    Map<String, float[]> values = new LinkedHashMap<>();
    try (HostMemory host = HostMemory.create("checkpoint")) {
      for (ParameterSpec p : plan.parameters()) {
        values.put(p.name(), read(parameters.tensor(p.slot()), parameters, host));
      }
    }
    return new Checkpoint(meta, values);
  }

  /** Refuses a checkpoint made for another model. */
  public void checkFits(ExecutionPlan plan, Path file) {
    String want = plan.spec().fingerprint();
    String got = get(FINGERPRINT);
    if (!want.equals(got)) {
      throw new CheckpointException(
          file + " was made for model " + metadata.get(MODEL) + " (config " + metadata.get(CONFIG) + ", fingerprint " + got
              + ") but the plan is " + plan.spec().name() + " (fingerprint " + want
              + "): use a checkpoint of this config, or train a new one");
    }
    for (ParameterSpec p : plan.parameters()) {
      float[] v = tensors.get(p.name());
      long n = plan.slot(p.slot()).shape().elements();
      if (v == null || v.length != n) {
        throw new CheckpointException(file + ": parameter " + p.name() + " is " + (v == null ? "missing" : v.length + " values, not " + n));
      }
    }
  }

  /** Copies the parameter values of this checkpoint into {@code parameters}. */
  public void restore(Parameters parameters) {
    for (ParameterSpec p : parameters.plan().parameters()) {
      parameters.write(p.name(), tensors.get(p.name()));
    }
  }

  /** Reads a backend tensor to a float array (for writing a checkpoint). */
  static float[] read(Tensor t, Parameters params, HostMemory host) {
    try (HostTensor h = params.backend().toHost(t, host)) {
      return h.toFloatArray();
    }
  }

  /** Writes a float array into a backend tensor (for restoring one). */
  static void write(float[] values, Tensor t, Parameters params, HostMemory host) {
    try (HostTensor h = host.allocate(t.shape(), DType.FLOAT32, t.label())) {
      h.copyFrom(values);
      params.backend().copyFromHost(h, t);
    }
  }

  /**
   * Whether {@code candidate} is a temporary file that {@link #write} makes for {@code file}
   * ({@code .NAME.<digits>.tmp} beside it): what a save that was killed leaves behind. Nothing else
   * matches, so a tool may remove these and only these.
   */
  public static boolean isTemporaryFileOf(Path file, Path candidate) {
    String name = candidate.getFileName().toString();
    String prefix = "." + file.getFileName() + ".";
    return name.startsWith(prefix) && name.endsWith(".tmp") && name.length() > prefix.length() + 4
        && name.substring(prefix.length(), name.length() - 4).chars().allMatch(Character::isDigit);
  }

  /**
   * A new empty {@code .NAME.<digits>.tmp} beside {@code file}, made with the process's umask (a
   * checkpoint is as readable as any file the user writes; {@code Files.createTempFile} would make it
   * owner-only).
   */
  static Path temporaryFile(Path dir, Path file) throws IOException {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    while (true) {
      Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toUnsignedString(random.nextLong()) + ".tmp");
      try {
        Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (java.nio.file.FileAlreadyExistsException taken) {
        // another writer drew the same number: draw again
      }
    }
  }

  /** Writes this checkpoint to {@code file} atomically (temporary file, force, rename). */
  public void write(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = temporaryFile(dir, file);
      Map<String, String> meta = new HashMap<>(metadata);
      meta.put(FORMAT, VERSION);
      Schema schema =
          new Schema(
              List.of(
                  new Field("name", FieldType.notNullable(new ArrowType.Utf8()), null),
                  new Field("values", FieldType.notNullable(new ArrowType.Binary()), null)),
              meta);
      try (BufferAllocator alloc = new RootAllocator();
          VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc);
          FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
          ArrowFileWriter writer = new ArrowFileWriter(root, null, ch)) {
        VarCharVector names = (VarCharVector) root.getVector("name");
        VarBinaryVector values = (VarBinaryVector) root.getVector("values");
        int i = 0;
        for (Map.Entry<String, float[]> e : tensors.entrySet()) {
          ByteBuffer bytes = ByteBuffer.allocate(e.getValue().length * 4).order(ByteOrder.LITTLE_ENDIAN);
          bytes.asFloatBuffer().put(e.getValue());
          names.setSafe(i, e.getKey().getBytes(StandardCharsets.UTF_8));
          values.setSafe(i, bytes.array());
          i++;
        }
        root.setRowCount(i);
        writer.start();
        writer.writeBatch();
        writer.end();
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException e) {
      throw new CheckpointException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the write already failed; the stray temporary file is named as such
        }
      }
    }
  }

  /** Reads a checkpoint; a missing, truncated or foreign file is refused with what to do. */
  public static Checkpoint read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException("no checkpoint at " + file + ": pass the checkpoint.arrow that `mspx train --out DIR` wrote");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
    }
    try (BufferAllocator alloc = new RootAllocator();
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        ArrowFileReader reader = new ArrowFileReader(ch, alloc)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      Map<String, String> meta = root.getSchema().getCustomMetadata();
      if (meta == null || !VERSION.equals(meta.get(FORMAT))) {
        throw new CheckpointException(file + " is an Arrow file but not an mspx checkpoint (no " + FORMAT + "=" + VERSION + " in its metadata)");
      }
      Map<String, float[]> tensors = new LinkedHashMap<>();
      while (reader.loadNextBatch()) {
        VarCharVector names = (VarCharVector) root.getVector("name");
        VarBinaryVector values = (VarBinaryVector) root.getVector("values");
        if (names == null || values == null) {
          throw new CheckpointException(file + " lacks the name/values columns of an mspx checkpoint");
        }
        for (int i = 0; i < root.getRowCount(); i++) {
          byte[] raw = values.get(i);
          if (raw.length % 4 != 0) {
            throw new CheckpointException(file + ": tensor " + new String(names.get(i), StandardCharsets.UTF_8) + " has " + raw.length + " bytes, not a whole number of float32 values");
          }
          float[] v = new float[raw.length / 4];
          ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
          tensors.put(new String(names.get(i), StandardCharsets.UTF_8), v);
        }
      }
      return new Checkpoint(meta, tensors);
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(
          file + " (" + size + " bytes) is not a complete Arrow IPC checkpoint: " + e.getMessage()
              + ". It may have been cut off or overwritten; resume from another checkpoint or train again", e);
    }
  }

  /** The moment tensors' names in a checkpoint. */
  static String moment(String parameter, int which) {
    return parameter + (which == 0 ? "#adam_m" : "#adam_v");
  }

  /** Every tensor a trainer saves: parameters and Adam's two moments. */
  static Map<String, float[]> capture(Parameters params, Adam adam) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (HostMemory host = HostMemory.create("checkpoint")) {
      for (ParameterSpec p : params.plan().parameters()) {
        out.put(p.name(), read(params.tensor(p.slot()), params, host));
        Tensor[] mv = adam.moments(p);
        out.put(moment(p.name(), 0), read(mv[0], params, host));
        out.put(moment(p.name(), 1), read(mv[1], params, host));
      }
    }
    return out;
  }

  /** Restores parameters and Adam's moments and step. */
  void restore(Parameters params, Adam adam, Path file) {

    try (HostMemory host = HostMemory.create("checkpoint")) {
      for (ParameterSpec p : params.plan().parameters()) {
        write(tensors.get(p.name()), params.tensor(p.slot()), params, host);
        Tensor[] mv = adam.moments(p);
        for (int w = 0; w < 2; w++) {
          float[] v = tensors.get(moment(p.name(), w));
          if (v == null) {
            throw new CheckpointException(file + " has no Adam state for " + p.name() + ": it cannot resume training");
          }
          write(v, mv[w], params, host);
        }
      }
    }
    adam.setSteps(getLong(STEP));
  }
}
