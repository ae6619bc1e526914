import type { Box, RgbImage } from './image.js';

export interface DetectedBox {
  /** Pixels of the image handed to detect(). */
  box: Box;
  score: number;
}

/** Finds plate (or, for the interim model, text-line) boxes in a frame. */
export interface PlateDetector {
  readonly name: string;
  readonly version: string;
  /** True when boxes are text lines that still need sorting into plates and banners. */
  readonly findsTextLines: boolean;
  detect(img: RgbImage): Promise<DetectedBox[]>;
  close(): Promise<void>;
}
