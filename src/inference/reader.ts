import type { Box, RgbImage } from './image.js';

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
   * Margin around a detected box, as fractions of its width and height, that this reader wants
   * in its crop (a plate reader wants the plate with its banner).
   */
  cropPaddingFor?(box: Box): { x: number; y: number };
  read(crops: RgbImage[]): Promise<PlateTextResult[]>;
  close(): Promise<void>;
}
