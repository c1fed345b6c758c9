/**
 * The BalloonLab hypervisor: {@code machine} holds machine memory, P2M maps, host swap, the data path, the
 * balloon's back end and the reclamation mechanism; {@code mmu} address translation; {@code policy} the
 * reclamation decisions; {@code event} the machine's event log; {@code time} the cost model; {@code grpc} the
 * transport edge; {@code cli} the command line. Dependencies point from the edge inward: {@code cli} and
 * {@code grpc} on the domain, never the other way.
 */
package org.balloonlab.hypervisor;
