// Every datum the console shows comes from the device's API under /api/v1, with the session cookie
// (httpOnly: this code never sees it) and, on state-changing requests, the session's CSRF token.

export interface Whoami {
  username: string;
  role: 'technician' | 'investigator' | 'administrator';
  trainingValidUntil: string | null;
  maySeeReads: boolean;
  idleMinutes: number;
  csrfToken?: string;
  idleExpiresAt?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;
let signedOut: (why: string) => void = () => undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the server answers 401: the session ended (idle, expired, signed out elsewhere). */
export function onSignedOut(handler: (why: string) => void): void {
  signedOut = handler;
}

export type Query = Record<string, string | number | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/** `body` is sent as JSON; `text` (a file the user chose, such as an anchors file) as text/plain. */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, opts: { query?: Query; body?: unknown; text?: string; signInAttempt?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  else if (opts.text !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  const res = await fetch(withQuery(`/api/v1${path}`, opts.query), {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: opts.body !== undefined ? JSON.stringify(opts.body) : opts.text,
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as { error?: string; field?: string };
  if (!res.ok) {
    const message = body.error ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 && !opts.signInAttempt) signedOut(message);
    throw new ApiError(res.status, message, body.field);
  }
  return body as T;
}

/** The access log's reason and case number for every search, read and image (P7). */
export interface Inquiry {
  reason: string;
  caseNumber: string;
}

export function inquiryQuery(i: Inquiry): Query {
  return { reason: i.reason, caseNumber: i.caseNumber || undefined };
}
