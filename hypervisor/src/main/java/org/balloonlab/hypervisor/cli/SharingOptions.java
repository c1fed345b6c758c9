package org.balloonlab.hypervisor.cli;

import org.balloonlab.hypervisor.machine.SharingSettings;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The hypervisor's flags for content-based page sharing (docs/page-sharing.md), and their checks. */
final class SharingOptions {
  @Option(names = "--page-sharing",
      description = "Share identical pages copy-on-write: a scanner picks random pages at a bounded rate of simulated "
          + "time, hashes their content and maps equal pages to one frame (off by default; docs/page-sharing.md).")
  boolean pageSharing;

  @Option(names = "--share-scan-rate", paramLabel = "PAGES", defaultValue = ""
      + SharingSettings.DEFAULT_PAGES_PER_VM_PER_SECOND,
      description = "Pages of each VM the sharing scanner looks at per simulated second, 1 to " + SharingSettings.MAX_RATE
          + " (default: ${DEFAULT-VALUE}).")
  int shareScanRate;

  @Option(names = "--share-scan-max", paramLabel = "PAGES", defaultValue = ""
      + SharingSettings.DEFAULT_MAX_PAGES_PER_SECOND,
      description = "Pages the sharing scanner looks at per simulated second across the machine, 1 to "
          + SharingSettings.MAX_RATE + "; the VMs split it when their own rates add up to more "
          + "(default: ${DEFAULT-VALUE}).")
  int shareScanMax;

  @Option(names = "--share-before-paging", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "With --page-sharing, hypervisor paging first shares a victim whose content the sharing table "
          + "holds instead of writing it to host swap (default: ${DEFAULT-VALUE}).")
  boolean shareBeforePaging;

  /** The settings the flags give, or a command-line error on {@code cl} naming the flag out of range. */
  SharingSettings settings(CommandLine cl) {
    checkRate(cl, "--share-scan-rate", shareScanRate);
    checkRate(cl, "--share-scan-max", shareScanMax);
    return new SharingSettings(pageSharing, shareScanRate, shareScanMax, shareBeforePaging);
  }

  private static void checkRate(CommandLine cl, String flag, int rate) {
    if (rate < 1 || rate > SharingSettings.MAX_RATE) {
      throw new CommandLine.ParameterException(cl, flag + " must be from 1 to " + SharingSettings.MAX_RATE
          + " pages a second, got " + rate);
    }
  }
}
