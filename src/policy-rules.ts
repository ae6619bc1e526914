import { join } from 'node:path';
import { installDir } from './config/load.js';

// The rule ids P1–P17 that messages cite are defined in docs/policy.md, which ships with the package,
// so a person reading "(P8)" on a device can look the rule up there without the source tree.

const CITES_RULE = /\bP(?:1[0-7]|[1-9])\b/;

/** Where the rule table is on this installation. */
export function policyDocPath(): string {
  return join(installDir(), 'docs/policy.md');
}

/** A message that cites a policy rule says where the rules are; any other message is left as it is. */
export function withPolicyPointer(message: string): string {
  return CITES_RULE.test(message) ? `${message} (rules: ${policyDocPath()})` : message;
}
