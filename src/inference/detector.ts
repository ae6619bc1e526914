import type { Box, RgbImage } from './image.js';

export interface DetectedBox {
  /** Pixels of the image handed to detect(). */
  box: Box;
  score: number;
}

/** Finds plate boxes in a frame. */
export interface PlateDetector {
  readonly name: string;
  readonly version: string;
  detect(img: RgbImage): Promise<DetectedBox[]>;
  close(): Promise<void>;
}
