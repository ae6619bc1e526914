import type { Box, RgbImage } from './image.js';

export interface DetectedBox {
  /** Pixels of the image handed to detect(). */
  box: Box;
  score: number;
}

export interface DetectOptions {
  fineSide?: number;
}

/** Finds plate boxes in a frame. */
export interface PlateDetector {
  readonly name: string;
  readonly version: string;
  /**
   * The plates in `img`. `fineSide`: a still picture (no frame budget) is also looked at with this
   * long side when it is larger than the working resolution, for plates too small there.
   */
  detect(img: RgbImage, opts?: DetectOptions): Promise<DetectedBox[]>;
  /**
   * A closer look at one plate it found: the picture around `box` enlarged to the scale the
   * detector places boxes best at, and the plate's box as found there (undefined when it finds none).
   */
  refine?(img: RgbImage, box: Box): Promise<Box | undefined>;
  close(): Promise<void>;
}
