package org.balloonlab.domain;

import java.util.List;

/**
 * The reclamation policies' names, as the hypervisor's {@code --policy}, scenario files and the machine's state
 * on the wire spell them: {@code esx} (shares per page with the idle memory tax, ESX OSDI 2002) and
 * {@code manual} (balloon targets set by hand only).
 */
public final class PolicyNames {
  public static final String ESX = "esx";
  public static final String MANUAL = "manual";
  /** Every name, the default first. */
  public static final List<String> ALL = List.of(ESX, MANUAL);
  /** The names in words, for messages: "esx or manual". */
  public static final String CHOICES = ESX + " or " + MANUAL;

  private PolicyNames() {}

  /** Whether {@code name} names a policy (exactly, in lower case). */
  public static boolean isKnown(String name) {
    return name != null && ALL.contains(name);
  }
}
