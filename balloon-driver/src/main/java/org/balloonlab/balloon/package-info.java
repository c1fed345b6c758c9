/** The guest's balloon driver. */
package org.balloonlab.balloon;
