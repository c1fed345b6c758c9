/** Hostile clients against a hypervisor on a real localhost port: what they are refused, and whom they spare. */
package org.balloonlab.hypervisor.hostile;
