/**
 * The guest OS as its balloon driver sees it: the domain module's kernel interface implemented on the guest OS,
 * every call run on the vCPU so the OS stays single-threaded.
 *
 * <p>May depend on the domain module's kernel interface and the guest's OS and vCPU packages; it does not
 * depend on the balloon driver, which only uses it through that interface.
 */
package org.balloonlab.guest.balloon;
