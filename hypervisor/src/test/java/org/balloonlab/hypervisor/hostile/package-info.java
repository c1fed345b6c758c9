/**
 * Hostile clients against a real hypervisor server on a localhost port: quota exhaustion, oversized and malformed
 * input, missing and wrong credentials. Each test asserts the status a hostile call gets, that its message stays
 * bounded, and that a legitimate VM powered on first keeps running with its data intact.
 */
package org.balloonlab.hypervisor.hostile;
