/**
 * Polls `check` until it holds. Tests wait on conditions, never for a fixed while: `timeoutMs`
 * only bounds a failure (generous, as the test machine may be loaded); a pass returns as soon as
 * the condition holds.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000, intervalMs = 25): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
