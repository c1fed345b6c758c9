package org.balloonlab.hypervisor.event;

import org.balloonlab.hypervisor.policy.TargetDecision;

/**
 * One thing that happened on the machine, as an operator reads it afterwards.
 *
 * @param sequence position in the machine's event log, from 1, without gaps
 * @param wallTimeMillis when it happened, milliseconds since the epoch (wall time: events are for people)
 * @param kind what happened
 * @param vmId the VM it concerns, or 0 for the machine as a whole
 * @param vmName that VM's name, or empty
 * @param message what happened, in a sentence
 * @param decision for {@link EventKind#TARGET_DECIDED}, the inputs of the decision; otherwise {@code null}
 */
public record MachineEvent(long sequence, long wallTimeMillis, EventKind kind, int vmId, String vmName,
                           String message, long labTimeNs, TargetDecision decision) {

  /** An event that carries no decision. */
  public MachineEvent(long sequence, long wallTimeMillis, EventKind kind, int vmId, String vmName, String message,
                      long labTimeNs) {
    this(sequence, wallTimeMillis, kind, vmId, vmName, message, labTimeNs, null);
  }
}
