package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX was built from the committed kernel source: build-ptx.sh records the SHA-256
 * of mspx_kernels.cu in the PTX's first lines, and this test recomputes it. So an edited .cu whose
 * PTX was not rebuilt fails {@code ./mvnw verify}, without needing nvcc. (build-ptx.sh --check
 * rebuilds with nvcc and compares the whole file.)
 */
class PtxSourceTest {

  private static final Path MODULE = Path.of("").toAbsolutePath();
  static final Path SOURCE = MODULE.resolve("src/main/cuda/mspx_kernels.cu");
  static final Path PTX = MODULE.resolve("src/main/resources/dev/mspx/backend/cudnn/mspx_kernels.ptx");

  private static final Pattern RECORDED = Pattern.compile("^// mspx: source-sha256 ([0-9a-f]{64})$", Pattern.MULTILINE);

  @Test
  void ptxRecordsTheHashOfTheCurrentSource() throws IOException {
    String ptx = Files.readString(PTX);
    Optional<String> recorded = recordedHash(ptx);
    assertTrue(recorded.isPresent(), PTX + " has no '// mspx: source-sha256' line: rebuild it with src/main/cuda/build-ptx.sh");
    assertEquals(
        sha256(Files.readAllBytes(SOURCE)),
        recorded.get(),
        SOURCE + " changed since " + PTX + " was built: run backend-cudnn/src/main/cuda/build-ptx.sh and commit the PTX");
  }

  @Test
  void aChangedSourceIsDetected() throws IOException {
    String ptx = Files.readString(PTX);
    byte[] edited = (Files.readString(SOURCE) + "\n// an edit\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(!sha256(edited).equals(recordedHash(ptx).orElseThrow()));
  }

  @Test
  void ptxDeclaresTheIsaAndTargetTheDriverCompatibilityRestsOn() throws IOException {
    String ptx = Files.readString(PTX);
    // build-ptx.sh lowers the ISA stamp so that CUDA 11+ drivers load the module (see there).
    assertTrue(ptx.contains("\n.version 7.0\n"), "PTX ISA stamp");
    assertTrue(ptx.contains("\n.target sm_75\n"), "PTX target");
    assertTrue(ptx.contains("\n.address_size 64\n"), "64-bit addresses");
  }

  @Test
  void theResourceOnTheClassPathIsTheCommittedFile() throws IOException {
    assertEquals(Files.readString(PTX), CudaModule.ptx());
  }

  static Optional<String> recordedHash(String ptx) {
    Matcher m = RECORDED.matcher(ptx);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
