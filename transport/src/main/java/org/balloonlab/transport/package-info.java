/**
 * What every BalloonLab client and server shares on the wire, and nothing of the simulator: the operator and lab
 * tokens ({@link org.balloonlab.transport.Token}, {@link org.balloonlab.transport.TokenFiles}), the call
 * credentials that send them ({@link org.balloonlab.transport.BearerCredentials}), the server interceptor that
 * checks them ({@link org.balloonlab.transport.TokenInterceptor}), and channels and servers with or without TLS
 * ({@link org.balloonlab.transport.Channels}, {@link org.balloonlab.transport.ServerTls}). See docs/security.md.
 */
package org.balloonlab.transport;
