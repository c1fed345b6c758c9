/**
 * A lab's own certificate authority and the certificates it issues, for TLS between machines
 * ({@code balloonlab certs}, docs/security.md). Built on Bouncy Castle's certificate builders; keys and signatures
 * come from the JDK's providers.
 */
package org.balloonlab.lab.certs;
