/**
 * The {@code balloonlab} command: its verbs ({@code run}, {@code lab}, {@code translation}, {@code compare-paging},
 * the operator's {@code status}, {@code balloon}, {@code driver}, {@code poweroff}, {@code events}, and the
 * hypervisor and guest agent themselves) and what runs a lab on this machine: {@link org.balloonlab.lab.Launcher}
 * starts and stops the child JVMs ({@link org.balloonlab.lab.JvmProcess}), {@link org.balloonlab.lab.LabRun} runs
 * a scenario on the lab clock (holding it through {@code ClockHold}) with its live table, schedule and report
 * ({@code RunReport}: results in simulated time, wall-clock figures apart).
 *
 * <p>May depend on {@code scenario} and {@code report}, on the management service's generated stubs and gRPC, on
 * {@code units}, and on the hypervisor's and guest agent's {@code cli} (the commands it starts and the lines they
 * print), never on their domain classes. Integration tests and benchmarks use {@code JvmProcess} to start
 * processes of their own.
 */
package org.balloonlab.lab;
