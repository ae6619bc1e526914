// One base for the errors a person fixes, as balena-supervisor's src/lib/errors.ts: each carries
// the field (option, setting, file, user) to look at and a sysexits(3) code. The CLI's top level
// (src/main.ts) is the one place that turns them into a one-line message and that exit status;
// systemd's RestartPreventExitStatus=78 keys on EX_CONFIG.

/** A command given wrongly: a missing or bad option or argument. */
export const EX_USAGE = 64;
/** Input data refused: a list, file, request or record that is not what was expected. */
export const EX_DATAERR = 65;
/** Something needed is not there or does not answer: a camera, the daemon, a broker, GStreamer. */
export const EX_UNAVAILABLE = 69;
/** A bug: an error nobody typed. Its stack is printed. */
export const EX_SOFTWARE = 70;
/** Temporary: try again later (systemd restarts the daemon). */
export const EX_TEMPFAIL = 75;
/** Not allowed: a wrong password, a role without the right, a key file others can read. */
export const EX_NOPERM = 77;
/** The configuration (or a file it names: model, key, certificate) must be fixed. */
export const EX_CONFIG = 78;

export type ExitCode = typeof EX_USAGE | typeof EX_DATAERR | typeof EX_UNAVAILABLE | typeof EX_TEMPFAIL | typeof EX_NOPERM | typeof EX_CONFIG;

export class AlprError extends Error {
  constructor(
    message: string,
    /** What to fix: an option (`--as`), a setting (`mqtt.url`), a file, a user. */
    readonly field: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command given without what it needs, or with an option that cannot mean anything. */
export class UsageError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_USAGE);
  }
}

/** A person who is not signed in (wrong password, unknown, locked) or whose role may not do this. */
export class PermissionError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_NOPERM);
  }
}

/** The one line a person reads for an error, and the exit status: typed errors without a stack. */
export function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof AlprError) return { message: err.message, exitCode: err.exitCode };
  // A file the user may not open (the state directory as a user other than the daemon's): the
  // system's own message names the path; a person fixes it, so one line and 77, not a stack.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return { message: `${(err as Error).message}: run as root or as the daemon's user (sudo -u alpr-edge)`, exitCode: EX_NOPERM };
  return { message: (err as Error | undefined)?.stack ?? String(err), exitCode: EX_SOFTWARE };
}
