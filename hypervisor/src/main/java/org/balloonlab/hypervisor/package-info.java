/**
 * The BalloonLab hypervisor: {@code machine} holds machine memory, P2M maps, host swap and the data path;
 * {@code time} the cost model; {@code grpc} the transport edge; {@code cli} the command line.
 */
package org.balloonlab.hypervisor;
