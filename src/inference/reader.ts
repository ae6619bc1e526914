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
   * Reads the plate in each region (a detected or labelled plate box; it may reach past the
   * picture). How the reader frames the box around the plate is its own business.
   */
  read(plates: PlateRegion[]): Promise<PlateTextResult[]>;
  close(): Promise<void>;
}
