/**
 * What a guest kernel offers its balloon driver, and nothing more: allocate pages without retrying, free them,
 * memory statistics as virtio-balloon reports them, and a deflate-on-OOM hook. The guest OS implements it and
 * the balloon driver uses it, so neither depends on the other.
 *
 * <p>Plain Java with no dependencies beyond the JDK.
 */
package org.balloonlab.domain.kernel;
