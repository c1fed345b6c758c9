/**
 * The {@code guest-agent} command: reads the command line, powers the VM on, boots the guest OS, loads the
 * balloon driver and runs the workloads, and prints the status and summary lines that tools read.
 *
 * <p>Where everything is wired together, it may depend on every package of the guest agent, the balloon driver
 * module, the domain and units modules, the protos, gRPC and picocli.
 */
package org.balloonlab.guest.cli;
