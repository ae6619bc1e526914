import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyDocPath, withPolicyPointer } from '../../src/policy-rules.js';

// Issue 22: the P1–P17 ids that messages cite must lead to a table shipped in the repository
// (docs/policy.md), not to a file outside it.

describe('policy rule pointer', () => {
  it('docs/policy.md is the installed copy of the table and defines every rule id P1–P17', () => {
    expect(policyDocPath()).toBe(join(import.meta.dirname, '../../docs/policy.md'));
    expect(existsSync(policyDocPath())).toBe(true);
    const table = readFileSync(policyDocPath(), 'utf8');
    for (let i = 1; i <= 17; i++) expect(table, `P${i}`).toMatch(new RegExp(`^\\| P${i} \\| .+ \\| .+ \\| .+ \\|$`, 'm'));
  });

  it('a message citing a rule gains the table\'s path; others are left as they are', () => {
    expect(withPolicyPointer('training gates access to reads (P8)')).toBe(`training gates access to reads (P8) (rules: ${policyDocPath()})`);
    expect(withPolicyPointer('a sharing request needs agency (P14)')).toContain('(rules: ');
    for (const plain of ['no user "tom"', 'port 8080 in use', 'P18 is no rule', 'SP8 and P80 are not rule ids', 'APP1 too']) expect(withPolicyPointer(plain)).toBe(plain);
  });
});
