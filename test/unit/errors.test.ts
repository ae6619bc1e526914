import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { AlprError, describeFailure, EX_CONFIG, PermissionError, UsageError } from '../../src/errors.js';
import { ConfigError } from '../../src/config/load.js';
import { DeviceKeyError } from '../../src/state/device-keys.js';
import { HotListFormatError } from '../../src/hotlist/format.js';

// Issue 21 item 5: the one mapping from an error to what a person reads and the exit status
// (src/main.ts uses it); the CLI's codes end to end are in test/e2e/cli-exit-codes.test.ts.
describe('describeFailure', () => {
  it('gives a typed error its own message, one line, and its sysexits code', () => {
    expect(describeFailure(new UsageError('give --as', '--as'))).toEqual({ message: 'give --as', exitCode: 64 });
    expect(describeFailure(new PermissionError('invalid username or password', '--as'))).toEqual({ message: 'invalid username or password', exitCode: 77 });
    expect(describeFailure(new ConfigError('location.latitude must be <= 90', 'location.latitude', 'c.json')).exitCode).toBe(78);
    expect(describeFailure(new HotListFormatError('bad plate', 3, 'plate'))).toEqual({ message: 'line 3: plate: bad plate', exitCode: 65 });
    expect(describeFailure(new DeviceKeyError('keys/current names key 1, but data-1.key is missing', 'keys/current')).exitCode).toBe(EX_CONFIG);
  });

  it('every typed error carries the field to fix and its class name', () => {
    const err = new HotListFormatError('bad plate', 3, 'plate');
    expect(err).toBeInstanceOf(AlprError);
    expect(err).toMatchObject({ name: 'HotListFormatError', field: 'plate', exitCode: 65 });
  });

  it('a file the user may not open is one line and 77, naming the path', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/var/lib/alpr-edge/keys/current'"), { code: 'EACCES' });
    const { message, exitCode } = describeFailure(denied);
    expect(exitCode).toBe(77);
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('/var/lib/alpr-edge/keys/current');
  });

  it('anything untyped is a bug: its stack, exit 70', () => {
    let thrown: unknown;
    try {
      readFileSync(undefined as unknown as string);
    } catch (err) {
      thrown = err;
    }
    const { message, exitCode } = describeFailure(thrown);
    expect(exitCode).toBe(70);
    expect(message).toMatch(/\n\s+at /);
    expect(describeFailure(new TypeError('x is undefined')).exitCode).toBe(70);
  });
});
