import type { Box } from './image.js';
import type { PlateRegion } from './reader-input.js';

export interface TextCandidate {
  text: string;
  confidence: number;
}

export interface PlateTextResult {
  /** A–Z and 0–9 only; spaces and dashes removed. */
  text: string;
  confidence: number;
  charConfidences: number[];
  /** Best first, the winning text included, at most 10. */
  candidates: TextCandidate[];
  /** US state code when the reader knows it (our own reader has a state head). */
  state?: string;
  stateConfidence?: number;
}

/** Reads the characters (and, where it can, the state) of plate crops. */
export interface PlateReader {
  readonly name: string;
  readonly version: string;
  /**
   * The framings of a detected box this reader wants to read (a plate reader wants the plate with
   * its banner, and a detector box may be the number band or the whole plate); their reads are
   * fused by `fuseViews`. Boxes may reach past the picture.
   */
  viewsFor?(box: Box): Box[];
  read(regions: PlateRegion[]): Promise<PlateTextResult[]>;
  close(): Promise<void>;
}
