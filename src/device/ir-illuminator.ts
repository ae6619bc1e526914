import { getPosition } from 'suncalc';

// The IR illuminator is on at night only: it draws power and attracts insects. By default it follows
// the sun's elevation at the configured location (suncalc: the published Astronomical Algorithms
// formulas, accurate to well under a degree, which is all a dusk threshold needs, and tested by its
// authors against reference tables; our own copy would need the same tests); a light sensor on a
// GPIO input can decide instead.

/** The sun's apparent elevation above the horizon in degrees at a place and time. */
export function sunElevationDeg(at: Date, latitude: number, longitude: number): number {
  return getPosition(at, latitude, longitude).altitude;
}

/**
 * On while the sun is below `onBelowDeg`; once on, off only when it has risen `hysteresisDeg` above
 * that, so passing clouds or rounding at dusk do not make it flicker.
 */
export function illuminatorWanted(elevationDeg: number, currentlyOn: boolean, onBelowDeg: number, hysteresisDeg: number): boolean {
  return currentlyOn ? elevationDeg < onBelowDeg + hysteresisDeg : elevationDeg < onBelowDeg;
}
