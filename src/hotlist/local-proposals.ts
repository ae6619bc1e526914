import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openValue, sealValue, type Sealer, type SealedValue } from '../state/device-keys.js';
import { writeFileAtomic } from './repository.js';
import { LocalEntriesFileError } from './local-entries.js';

// P11: a member (an investigator) enters a local entry with a case number and a synopsis, and an
// administrator approves it. Until then it is a proposal: kept here, never matched against reads.
// Decided proposals stay listed (approved by whom, or refused and why) for `keepDays`, so the member
// sees what became of theirs. Sealed with the device keys like the local list (P16).

export interface LocalEntryProposal {
  id: string;
  plate: string;
  state: string | null;
  type: string;
  caseNumber: string;
  synopsis: string;
  /** As the member asked (ISO); absent: the longest allowed, counted from approval. */
  expiresAt?: string;
  fuzzy: boolean;
  enteredBy: string;
  proposedAt: string;
  status: 'pending' | 'approved' | 'refused';
  decidedBy?: string;
  decidedAt?: string;
  refusal?: string;
}

interface SealedProposalsFile {
  version: number;
  proposals: SealedValue;
}

const aad = (version: number) => `hotlist-local-proposals:v${version}`;

export class LocalEntryProposals {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly keys: Sealer,
    private readonly keepDays: number,
  ) {
    const dir = join(stateDir, 'hotlists');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'local-proposals.json');
  }

  /** Newest first. */
  list(): LocalEntryProposal[] {
    return this.read().proposals.sort((a, b) => b.proposedAt.localeCompare(a.proposedAt));
  }

  get(id: string): LocalEntryProposal | undefined {
    return this.read().proposals.find((p) => p.id === id);
  }

  add(p: Omit<LocalEntryProposal, 'id' | 'proposedAt' | 'status'>, nowMs = Date.now()): LocalEntryProposal {
    const proposal: LocalEntryProposal = { ...p, id: `LP-${new Date(nowMs).toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`, proposedAt: new Date(nowMs).toISOString(), status: 'pending' };
    const { version, proposals } = this.read();
    this.write(version + 1, [...this.pruned(proposals, nowMs), proposal]);
    return proposal;
  }

  /** Records an administrator's decision on a pending proposal; undefined when there is none such. */
  decide(id: string, decision: { status: 'approved' | 'refused'; by: string; refusal?: string }, nowMs = Date.now()): LocalEntryProposal | undefined {
    const { version, proposals } = this.read();
    const found = proposals.find((p) => p.id === id && p.status === 'pending');
    if (!found) return undefined;
    const decided: LocalEntryProposal = { ...found, status: decision.status, decidedBy: decision.by, decidedAt: new Date(nowMs).toISOString(), ...(decision.refusal ? { refusal: decision.refusal } : {}) };
    this.write(version + 1, this.pruned(proposals.map((p) => (p === found ? decided : p)), nowMs));
    return decided;
  }

  /** Decided proposals older than `keepDays` go; pending ones stay until decided. */
  private pruned(proposals: LocalEntryProposal[], nowMs: number): LocalEntryProposal[] {
    const oldest = nowMs - this.keepDays * 86_400_000;
    return proposals.filter((p) => p.status === 'pending' || Date.parse(p.decidedAt ?? p.proposedAt) >= oldest);
  }

  private read(): { version: number; proposals: LocalEntryProposal[] } {
    if (!existsSync(this.file)) return { version: 0, proposals: [] };
    let parsed: SealedProposalsFile;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as SealedProposalsFile;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LocalEntriesFileError(this.file, code ? `cannot be read (${code})` : `is not JSON (${(err as Error).message})`);
    }
    try {
      return { version: parsed.version, proposals: openValue(this.keys, parsed.proposals, aad(parsed.version)) as LocalEntryProposal[] };
    } catch (err) {
      throw new LocalEntriesFileError(this.file, `does not open with the device keys (${(err as Error).message}); restore the keys or the file`);
    }
  }

  private write(version: number, proposals: LocalEntryProposal[]): void {
    const file: SealedProposalsFile = { version, proposals: sealValue(this.keys, proposals, aad(version)) };
    writeFileAtomic(this.file, JSON.stringify(file));
  }
}
