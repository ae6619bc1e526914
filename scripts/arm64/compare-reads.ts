// Used by scripts/arm64-check: compares `alpr-edge read` output from the arm64 build (under
// qemu-aarch64) with the x86 output, file by file. Texts, states and boxes must be identical;
// confidences may differ by CONFIDENCE_TOLERANCE (see docs/arm.md for why). Exits 1 on any
// difference, printing what differed.
//   node dist/scripts/arm64/compare-reads.js X86.jsonl ARM64.jsonl
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The CPU kernels differ (AVX2/AVX-512 VNNI on x86, NEON on arm64), so float sums are reassociated
 * and the last bits of each logit differ; `read` rounds confidences to 3 decimals. 0.01 absolute
 * is ten steps of that rounding and still far below any threshold the pipeline decides on.
 */
export const CONFIDENCE_TOLERANCE = 0.01;
/** Candidates below this confidence are near-ties of the CTC beam whose order may flip on a rounding. */
const CANDIDATE_FLOOR = 0.01;

export interface Candidate { text: string; confidence: number }
export interface Plate extends Candidate { state: string | null; box: number[]; candidates: Candidate[] }
export interface ReadLine { file: string; plates: Plate[]; error?: string }

export interface FileComparison {
  file: string;
  x86: string;
  arm64: string;
  maxConfidenceDelta: number;
  differences: string[];
}

function parseLines(path: string): Map<string, ReadLine> {
  const lines = new Map<string, ReadLine>();
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    if (raw.trim() === '') continue;
    const line = JSON.parse(raw) as ReadLine;
    lines.set(basename(line.file), line);
  }
  return lines;
}

const summary = (line: ReadLine | undefined) =>
  line === undefined ? '(missing)' : line.error !== undefined ? `error: ${line.error}` : line.plates.map((p) => `${p.text}/${p.state ?? '-'}`).join(' ') || '(no plates)';

const strongCandidates = (p: Plate) => p.candidates.filter((c) => c.confidence >= CANDIDATE_FLOOR).map((c) => c.text);

export function compareFile(file: string, x86: ReadLine | undefined, arm: ReadLine | undefined): FileComparison {
  const differences: string[] = [];
  let maxConfidenceDelta = 0;
  if (x86 === undefined || arm === undefined) differences.push(`no output line from ${x86 === undefined ? 'x86' : 'arm64'}`);
  else if ((x86.error ?? '') !== (arm.error ?? '')) differences.push(`error differs: "${x86.error ?? ''}" vs "${arm.error ?? ''}"`);
  else if (x86.plates.length !== arm.plates.length) differences.push(`${x86.plates.length} plates vs ${arm.plates.length}`);
  else {
    x86.plates.forEach((a, i) => {
      const b = arm.plates[i]!;
      if (a.text !== b.text) differences.push(`plate ${i}: text ${a.text} vs ${b.text}`);
      if (a.state !== b.state) differences.push(`plate ${i}: state ${a.state} vs ${b.state}`);
      if (JSON.stringify(a.box) !== JSON.stringify(b.box)) differences.push(`plate ${i}: box ${JSON.stringify(a.box)} vs ${JSON.stringify(b.box)}`);
      const strongA = strongCandidates(a).join(',');
      const strongB = strongCandidates(b).join(',');
      if (strongA !== strongB) differences.push(`plate ${i}: candidates ≥ ${CANDIDATE_FLOOR} [${strongA}] vs [${strongB}]`);
      const deltas = [Math.abs(a.confidence - b.confidence)];
      for (const c of a.candidates) {
        const other = b.candidates.find((d) => d.text === c.text);
        if (other !== undefined) deltas.push(Math.abs(c.confidence - other.confidence));
      }
      maxConfidenceDelta = Math.max(maxConfidenceDelta, ...deltas);
    });
    if (maxConfidenceDelta > CONFIDENCE_TOLERANCE) differences.push(`confidence differs by ${maxConfidenceDelta.toFixed(3)} > ${CONFIDENCE_TOLERANCE}`);
  }
  return { file, x86: summary(x86), arm64: summary(arm), maxConfidenceDelta, differences };
}

function main(x86Path: string, armPath: string): number {
  const x86 = parseLines(x86Path);
  const arm = parseLines(armPath);
  const files = [...new Set([...x86.keys(), ...arm.keys()])].sort();
  const rows = files.map((f) => compareFile(f, x86.get(f), arm.get(f)));
  const width = Math.max(4, ...rows.map((r) => r.file.length));
  const textWidth = Math.max(6, ...rows.map((r) => r.x86.length));
  process.stdout.write(`${'file'.padEnd(width)}  ${'x86'.padEnd(textWidth)}  ${'arm64'.padEnd(textWidth)}  max |Δconf|  verdict\n`);
  for (const r of rows) {
    const verdict = r.differences.length === 0 ? 'same' : `DIFFERENT: ${r.differences.join('; ')}`;
    process.stdout.write(`${r.file.padEnd(width)}  ${r.x86.padEnd(textWidth)}  ${r.arm64.padEnd(textWidth)}  ${r.maxConfidenceDelta.toFixed(3).padStart(11)}  ${verdict}\n`);
  }
  const bad = rows.filter((r) => r.differences.length > 0).length;
  const plates = rows.reduce((n, r) => n + (r.x86.startsWith('(') || r.x86.startsWith('error') ? 0 : r.x86.split(' ').length), 0);
  process.stdout.write(`${rows.length} files, ${plates} plates: ${bad === 0 ? 'arm64 output equals x86 output' : `${bad} files differ`} (confidence tolerance ${CONFIDENCE_TOLERANCE})\n`);
  return rows.length > 0 && bad === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [x86Path, armPath] = process.argv.slice(2);
  if (x86Path === undefined || armPath === undefined) {
    process.stderr.write('usage: compare-reads X86.jsonl ARM64.jsonl\n');
    process.exitCode = 2;
  } else {
    process.exitCode = main(x86Path, armPath);
  }
}
