import { useState } from 'preact/hooks';
import { api, ApiError, type Whoami } from '../api.js';

export function SignIn(props: { notice?: string; onSignedIn: (who: Whoami) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await api<Whoami>('POST', '/session', { body: { username, password }, signInAttempt: true }));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? 'too many attempts: wait a minute' : (err as Error).message);
    } finally {
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <main class="centre">
      <form class="card sign-in" onSubmit={submit}>
        <h1>alpr-edge</h1>
        <p class="muted">Official use only. Every sign-in, search and image view is recorded with your name (Civil Code §1798.90.52).</p>
        {props.notice && <p class="notice" role="status">{props.notice}</p>}
        <label>User name<input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required /></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required /></label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || !username || !password}>Sign in</button>
      </form>
    </main>
  );
}
