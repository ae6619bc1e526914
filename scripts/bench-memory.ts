// Where the RSS of this process is (issue 23): /proc/self/smaps split into glibc's malloc heaps,
// the other anonymous memory and the shared libraries, beside what V8 says of its own heap and of
// the buffers it knows (process.memoryUsage()). Linux only; elsewhere the bench reports none.
import { readFileSync } from 'node:fs';
import { loadGstreamer, type MallocStats } from '../src/capture/gst-binding.js';

const KB = 1024;
const MB = 1024 * 1024;
/**
 * glibc's per-thread arenas are 64 MB reservations aligned to 64 MB (HEAP_MAX_SIZE on 64-bit), of
 * which the part in use is read-write and the rest PROT_NONE; nothing else maps such a pair.
 */
const ARENA_BYTES = 64 * MB;

export interface MemoryParts {
  rssMb: number;
  /** glibc's main heap ([heap], the brk area): malloc from the JS thread. */
  mallocMainMb: number;
  /** glibc's per-thread arenas: malloc from GStreamer, libuv pool, libvips and onnxruntime threads. */
  mallocThreadArenasMb: number;
  threadArenas: number;
  /**
   * Anonymous memory outside those heaps: V8's heap, blocks malloc maps on their own (above its
   * mmap threshold), thread stacks.
   */
  otherAnonMb: number;
  /** V8's heap as committed (heapTotal), part of otherAnonMb. */
  v8HeapMb: number;
  /** Bytes of the Buffers and typed arrays alive in JS (memoryUsage().external), wherever they live: frames, their copies, tensors. */
  jsBuffersMb: number;
  /**
   * What malloc says of its memory (mallinfo2, through the capture addon): allocated (from the
   * arenas and in blocks of their own) and free but kept in the arenas; undefined without glibc.
   */
  malloc?: { inUseMb: number; freeMb: number };
  /** Frames pulled into JS whose GstBuffer JS still holds (the capture addon's count); undefined with an older addon. */
  framesHeld?: number;
  /** Mapped files, resident: code and data of the binaries. */
  librariesMb: { node: number; onnxruntime: number; gstreamer: number; libvips: number; other: number };
}

interface Mapping {
  start: bigint;
  end: bigint;
  name: string;
  rssKb: number;
}

/** The parts of this process's RSS now, or undefined where /proc/self/smaps cannot be read. */
export function memoryParts(): MemoryParts | undefined {
  let smaps: string;
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  const gst = loadGstreamer();
  return memoryPartsOf(smaps, process.memoryUsage(), { malloc: gst.mallocStats?.() ?? null, framesHeld: gst.heldFrames?.() });
}

/** The parts of a process's RSS from its smaps, V8's figures (process.memoryUsage()) and the capture addon's (malloc, frames held). */
export function memoryPartsOf(
  smaps: string,
  usage: Pick<NodeJS.MemoryUsage, 'rss' | 'heapTotal' | 'external'>,
  native: { malloc: MallocStats | null; framesHeld?: number | undefined },
): MemoryParts {
  const parts: MemoryParts = {
    rssMb: usage.rss / MB,
    mallocMainMb: 0,
    mallocThreadArenasMb: 0,
    threadArenas: 0,
    otherAnonMb: 0,
    v8HeapMb: usage.heapTotal / MB,
    jsBuffersMb: usage.external / MB,
    librariesMb: { node: 0, onnxruntime: 0, gstreamer: 0, libvips: 0, other: 0 },
  };
  const stats = native.malloc;
  if (stats) parts.malloc = { inUseMb: (stats.inUseBytes + stats.mmapBytes) / MB, freeMb: stats.freeBytes / MB };
  if (native.framesHeld !== undefined) parts.framesHeld = native.framesHeld;
  const maps = parseSmaps(smaps);
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const mb = m.rssKb / KB;
    if (m.name === '') {
      const arenaEnd = threadArenaEnd(maps, i);
      if (arenaEnd !== undefined) {
        for (let j = i; j <= arenaEnd; j++) parts.mallocThreadArenasMb += maps[j]!.rssKb / KB;
        parts.threadArenas++;
        i = arenaEnd;
      } else parts.otherAnonMb += mb;
    } else if (m.name === '[heap]') parts.mallocMainMb += mb;
    else if (m.name.startsWith('[')) parts.otherAnonMb += mb; // [stack], [vdso], ...
    else parts.librariesMb[libraryOf(m.name)] += mb;
  }
  return parts;
}

/** Index of the last mapping of a thread arena starting at maps[i], if one does. */
function threadArenaEnd(maps: Mapping[], i: number): number | undefined {
  const first = maps[i]!;
  if (first.start % BigInt(ARENA_BYTES) !== 0n) return undefined;
  let end = first.end;
  let j = i;
  while (end - first.start < BigInt(ARENA_BYTES) && maps[j + 1]?.name === '' && maps[j + 1]!.start === end) end = maps[++j]!.end;
  return end - first.start === BigInt(ARENA_BYTES) ? j : undefined;
}

function libraryOf(path: string): keyof MemoryParts['librariesMb'] {
  if (/onnxruntime/.test(path)) return 'onnxruntime';
  if (/gstreamer|libgst|libav|libsw(scale|resample)|liborc|libx26/.test(path)) return 'gstreamer';
  if (/libvips|sharp/.test(path)) return 'libvips';
  if (/\/node$/.test(path)) return 'node';
  return 'other';
}

function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let current: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      current = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), name: head[3] ?? '', rssKb: 0 };
      maps.push(current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rssKb = Number(rss[1]);
  }
  return maps;
}

/** Samples RSS every `intervalMs` and keeps the parts at the highest sample (smaps read only when RSS rose by 2 MB or more). */
export function sampleMemory(intervalMs: number): { stop(): { mean: number; max: number; atMax: MemoryParts | undefined } } {
  const samples: number[] = [];
  let atMax: MemoryParts | undefined;
  let partsAt = 0;
  const take = () => {
    const rss = process.memoryUsage.rss() / MB;
    samples.push(rss);
    if (rss >= partsAt + 2) {
      atMax = memoryParts() ?? atMax;
      partsAt = rss;
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  let result: { mean: number; max: number; atMax: MemoryParts | undefined } | undefined;
  return {
    stop() {
      if (result === undefined) {
        clearInterval(timer);
        take();
        result = { mean: samples.reduce((s, v) => s + v, 0) / samples.length, max: Math.max(...samples), atMax };
      }
      return result;
    },
  };
}

/** One line: "malloc heaps 176 (main 104, 2 thread arenas 72), other anon 50 (V8 heap 46), libraries 119 (...); JS buffers 54; malloc in use 166, free 13". */
export function formatMemoryParts(p: MemoryParts): string {
  const f = (v: number) => v.toFixed(0);
  const lib = p.librariesMb;
  const libs = lib.node + lib.onnxruntime + lib.gstreamer + lib.libvips + lib.other;
  return (
    `malloc heaps ${f(p.mallocMainMb + p.mallocThreadArenasMb)} (main ${f(p.mallocMainMb)}, ${p.threadArenas} thread arenas ${f(p.mallocThreadArenasMb)}), ` +
    `other anon ${f(p.otherAnonMb)} (V8 heap ${f(p.v8HeapMb)}), ` +
    `libraries ${f(libs)} (node ${f(lib.node)}, onnxruntime ${f(lib.onnxruntime)}, GStreamer ${f(lib.gstreamer)}, libvips ${f(lib.libvips)}, other ${f(lib.other)}); ` +
    `JS buffers ${f(p.jsBuffersMb)}${p.framesHeld === undefined ? '' : ` (${p.framesHeld} frames)`}` +
    (p.malloc === undefined ? '' : `; malloc in use ${f(p.malloc.inUseMb)}, free ${f(p.malloc.freeMb)}`)
  );
}
