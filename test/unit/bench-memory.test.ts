import { describe, expect, it } from 'vitest';
import { formatMemoryParts, memoryPartsOf } from '../../scripts/bench-memory.js';

const MB = 1024 * 1024;

/** One smaps entry: the mapping line and its Rss line (the fields the breakdown reads). */
function mapping(start: number, end: number, perms: string, name: string, rssKb: number): string {
  const hex = (v: number) => v.toString(16).padStart(12, '0');
  return `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0${name ? `                          ${name}` : ''}\nSize:           ${(end - start) / 1024} kB\nRss:            ${rssKb} kB\nPss:            ${rssKb} kB\n`;
}

describe('bench: RSS by part', () => {
  // A 64 MB-aligned thread arena (read-write part, then the PROT_NONE rest), a frame malloc mapped
  // on its own, the main heap, a library and a thread stack's guard and stack.
  const arena = 0x7f0000000000;
  const smaps = [
    mapping(0x555500000000, 0x555500800000, 'rw-p', '[heap]', 6 * 1024),
    mapping(arena, arena + 12 * MB, 'rw-p', '', 10 * 1024),
    mapping(arena + 12 * MB, arena + 64 * MB, '---p', '', 0),
    mapping(0x7f1000000000, 0x7f1000600000 + 4096, 'rw-p', '', 6 * 1024),
    mapping(0x7f2000000000, 0x7f2000100000, 'r-xp', '/usr/lib/x86_64-linux-gnu/libavcodec.so.59.37.100', 700),
    mapping(0x7f2000100000, 0x7f2000200000, 'r-xp', '/opt/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', 2048),
    mapping(0x7f2000200000, 0x7f2000300000, 'r--p', '/usr/bin/node', 1024),
    mapping(0x7f2000300000, 0x7f2000301000, '---p', '', 0),
    mapping(0x7f2000301000, 0x7f2000b01000, 'rw-p', '', 64),
    mapping(0x7ffd00000000, 0x7ffd00021000, 'rw-p', '[stack]', 132),
  ].join('');

  it('tells glibc arenas from other anonymous memory and groups the libraries', () => {
    const parts = memoryPartsOf(smaps, { rss: 30 * MB, heapTotal: 4 * MB, external: 7 * MB }, { malloc: { arenaBytes: 20 * MB, mmapBytes: 6 * MB, inUseBytes: 14 * MB, freeBytes: 6 * MB }, framesHeld: 1 });
    expect(parts).toMatchObject({ rssMb: 30, mallocMainMb: 6, mallocThreadArenasMb: 10, threadArenas: 1, v8HeapMb: 4, jsBuffersMb: 7, malloc: { inUseMb: 20, freeMb: 6 }, framesHeld: 1 });
    expect(parts.otherAnonMb).toBeCloseTo((6 * 1024 + 64 + 132) / 1024, 6);
    expect(parts.librariesMb).toEqual({ node: 1, onnxruntime: 2, gstreamer: 700 / 1024, libvips: 0, other: 0 });
  });

  it('does not take an aligned mapping of another size for an arena, and leaves malloc out without glibc', () => {
    const notArena = mapping(arena, arena + 8 * MB, 'rw-p', '', 8 * 1024);
    const parts = memoryPartsOf(notArena, { rss: 8 * MB, heapTotal: 0, external: 0 }, { malloc: null });
    expect([parts.threadArenas, parts.mallocThreadArenasMb, parts.otherAnonMb, parts.malloc]).toEqual([0, 0, 8, undefined]);
    expect(formatMemoryParts(parts)).toBe('malloc heaps 0 (main 0, 0 thread arenas 0), other anon 8 (V8 heap 0), libraries 0 (node 0, onnxruntime 0, GStreamer 0, libvips 0, other 0); JS buffers 0');
  });
});
