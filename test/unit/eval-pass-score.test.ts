import { describe, expect, it } from 'vitest';
import { scorePasses, type ClipVehicle, type PassRead } from '../../src/eval/pass-score.js';

// 30 fps: frame f starts at f * 33.3 ms. Texts are made up, not registrations.
const fps = 30;
const ms = (f: number) => (f * 1000) / fps;
const full: ClipVehicle['region'] = [0, 0, 1920, 1080];
const v = (ref: string, text: string, start: number, end: number, region = full, plateBoxes: ClipVehicle['plateBoxes'] = [[880, 690, 140, 70]]): ClipVehicle => ({ ref, text, startFrame: start, endFrame: end, region, plateBoxes });
const read = (text: string, first: number, last: number, box: PassRead['box'] = [900, 700, 120, 60]): PassRead => ({ text, firstSeenMs: ms(first), lastSeenMs: ms(last), box });

describe('pass scoring', () => {
  it('scores each vehicle once: right, wrong, twice, missed', () => {
    const vs = [v('a#1', '4AAA111', 0, 12), v('a#2', '8BBB222', 13, 25), v('a#3', '5CCC333', 26, 38), v('a#4', '7DDD444', 39, 51)];
    const reads = [read('4AAA111', 0, 12), read('8BBB2Z2', 13, 25), read('5CCC333', 26, 30), read('5CCC333', 33, 38)];
    const { outcomes, summary } = scorePasses(vs, reads, fps);
    expect(outcomes.map((o) => o.kind)).toEqual(['once-right', 'once-wrong', 'twice', 'missed']);
    expect(outcomes[2]!.anyRight).toBe(true);
    expect(summary.onceRight.k).toBe(1);
    expect(summary.missed.k).toBe(1);
    expect(summary.strayReads).toBe(0);
  });

  it('counts a read that merged two vehicles for one of them only', () => {
    const vs = [v('a#1', '4AAA111', 0, 12), v('a#2', '8BBB222', 13, 25)];
    const { outcomes } = scorePasses(vs, [read('4AAA111', 0, 25)], fps);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['missed', 'once-right']);
  });

  it('tells apart two vehicles in view at once by where the read is', () => {
    const vs = [v('p#1', '4AAA111', 0, 44, [0, 0, 960, 1080], [[290, 590, 120, 60]]), v('p#2', '8BBB222', 0, 44, [960, 0, 960, 1080], [[1390, 590, 120, 60]])];
    const reads = [read('8BBB222', 0, 44, [1400, 600, 100, 50]), read('4AAA111', 0, 44, [300, 600, 100, 50])];
    expect(scorePasses(vs, reads, fps).outcomes.map((o) => o.kind)).toEqual(['once-right', 'once-right']);
  });

  it('counts a read of another plate in the picture apart, not as a second read of the vehicle', () => {
    const vs = [v('a#1', '4AAA111', 0, 12)];
    const { outcomes, summary } = scorePasses(vs, [read('4AAA111', 0, 12), read('9ZZZ999', 0, 12, [1600, 200, 150, 45])], fps);
    expect(outcomes[0]!.kind).toBe('once-right');
    expect(summary.otherPlateReads).toBe(1);
  });

  it('counts reads outside every vehicle as stray', () => {
    const vs = [v('a#1', '4AAA111', 0, 12)];
    const { summary } = scorePasses(vs, [read('4AAA111', 0, 12), read('9ZZZ999', 40, 50)], fps);
    expect(summary.strayReads).toBe(1);
    expect(summary.onceRight.k).toBe(1);
  });
});
