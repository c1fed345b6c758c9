package org.balloonlab.lab.scenario;

import java.util.List;

/**
 * The {@code sharing:} block of a scenario's hypervisor: content-based page sharing (docs/page-sharing.md). A field
 * left out is {@code null} and not passed on, so the hypervisor keeps its default.
 *
 * @param enabled whether the hypervisor shares pages ({@code --page-sharing})
 * @param scanRate pages of each VM scanned per simulated second ({@code --share-scan-rate}), or {@code null}
 * @param scanMax pages scanned per simulated second across the machine ({@code --share-scan-max}), or {@code null}
 * @param shareBeforePaging whether hypervisor paging shares a victim whose content the table holds instead of
 *     writing it ({@code --[no-]share-before-paging}), or {@code null}
 */
public record SharingSpec(boolean enabled, Integer scanRate, Integer scanMax, Boolean shareBeforePaging) {

  /** Adds this block's flags to a hypervisor command line. */
  void addFlags(List<String> flags) {
    if (enabled) {
      flags.add("--page-sharing");
    }
    HypervisorSpec.add(flags, "--share-scan-rate", scanRate);
    HypervisorSpec.add(flags, "--share-scan-max", scanMax);
    if (shareBeforePaging != null) {
      flags.add(shareBeforePaging ? "--share-before-paging" : "--no-share-before-paging");
    }
  }
}
