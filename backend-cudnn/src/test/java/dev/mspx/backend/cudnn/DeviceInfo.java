package dev.mspx.backend.cudnn;

import dev.mspx.api.Availability;

/**
 * device-check.sh's first step: what the cudnn provider finds on this machine, as {@code ./mspx info}
 * prints it. Exit status 0 when the backend can start, 2 when not (every reason is printed).
 */
public final class DeviceInfo {

  private DeviceInfo() {}

  public static void main(String[] args) {
    Availability a = new CudnnBackendProvider().availability();
    System.out.println("cudnn: " + a.summary());
    for (String d : a.details()) {
      System.out.println("  " + d);
    }
    System.exit(a.available() ? 0 : 2);
  }
}
