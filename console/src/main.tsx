import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, onSignedOut, setCsrfToken, type Inquiry, type Whoami } from './api.js';
import { SignIn } from './pages/sign-in.js';
import { LivePage } from './pages/live.js';
import { HealthPage } from './pages/health.js';
import { SearchPage } from './pages/search.js';
import { ReadPage } from './pages/read.js';
import { AdminPage } from './pages/admin.js';
import { HotListPage } from './pages/hotlist.js';

type Role = Whoami['role'];

interface PageDef {
  path: string;
  title: string;
  roles: Role[];
}

// P8: technicians get the live view and health, never search or reads. The server refuses them
// anyway; the menu only shows each role what it may use.
const PAGES: PageDef[] = [
  { path: 'live', title: 'Live view', roles: ['technician', 'administrator'] },
  { path: 'search', title: 'Search reads', roles: ['investigator', 'administrator'] },
  { path: 'health', title: 'Device health', roles: ['technician', 'investigator', 'administrator'] },
  // P11: a member enters local entries for approval; administrators approve them under Administration.
  { path: 'hotlist', title: 'Local hot list', roles: ['investigator'] },
  { path: 'admin', title: 'Administration', roles: ['administrator'] },
];

const HOME: Record<Role, string> = { technician: 'live', investigator: 'search', administrator: 'health' };

/** How often a person's activity is reported to the server (which keeps the session from going idle). */
const ACTIVITY_PING_MS = 60_000;

function currentPath(): string {
  return location.pathname.replace(/^\/console\/?/, '').replace(/\/$/, '');
}

function navigate(path: string): void {
  history.pushState(null, '', `/console/${path}`);
  dispatchEvent(new PopStateEvent('popstate'));
}

function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onPop = () => setPath(currentPath());
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return path;
}

/**
 * Idle logout: without a key press, click or scroll for the session's idle time, the page signs
 * out. The server keeps its own idle clock, which polling (live view, health) does not reset, so a
 * page left open ends its session even if this code does not run.
 */
function useIdleLogout(me: Whoami | null, signOut: (why: string) => void): void {
  const lastInput = useRef(Date.now());
  const lastPing = useRef(Date.now());
  useEffect(() => {
    if (!me) return;
    lastInput.current = Date.now();
    lastPing.current = Date.now();
    const onInput = () => {
      lastInput.current = Date.now();
      if (Date.now() - lastPing.current > ACTIVITY_PING_MS) {
        lastPing.current = Date.now();
        void api('GET', '/session').catch(() => undefined);
      }
    };
    const events = ['keydown', 'pointerdown', 'wheel', 'touchstart'];
    for (const e of events) addEventListener(e, onInput, { passive: true });
    const timer = setInterval(() => {
      if (Date.now() - lastInput.current > me.idleMinutes * 60_000) signOut(`signed out after ${me.idleMinutes} minutes without activity`);
    }, 5000);
    return () => {
      for (const e of events) removeEventListener(e, onInput);
      clearInterval(timer);
    };
  }, [me, signOut]);
}

function App() {
  const [me, setMe] = useState<Whoami | null>(null);
  const [checked, setChecked] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  // P7: the reason and case number of the investigator's current inquiry, kept while they browse
  // its results; every read and image request carries them.
  const [inquiry, setInquiry] = useState<Inquiry | undefined>();
  const path = usePath();

  const signedIn = useCallback((who: Whoami) => {
    setCsrfToken(who.csrfToken);
    setNotice(undefined);
    setMe(who);
  }, []);

  const signOut = useCallback((why?: string) => {
    void api('DELETE', '/session').catch(() => undefined);
    setCsrfToken(undefined);
    setInquiry(undefined);
    setMe(null);
    setNotice(why);
  }, []);

  useEffect(() => {
    onSignedOut((why) => {
      setCsrfToken(undefined);
      setInquiry(undefined);
      setMe(null);
      setNotice(why);
    });
    api<Whoami>('GET', '/session', { signInAttempt: true })
      .then(signedIn)
      .catch(() => undefined)
      .finally(() => setChecked(true));
  }, [signedIn]);

  useIdleLogout(me, signOut);

  if (!checked) return <main class="centre"><p>Loading…</p></main>;
  if (!me) return <SignIn notice={notice} onSignedIn={signedIn} />;

  const allowed = PAGES.filter((p) => p.roles.includes(me.role));
  const [section, ...rest] = path.split('/');
  const page = allowed.find((p) => p.path === section) ?? (section === 'reads' && me.role !== 'technician' ? { path: 'reads', title: 'Read', roles: [] } : undefined);
  if (!page) {
    // Unknown or not this role's: the role's first page.
    queueMicrotask(() => navigate(HOME[me.role]));
    return null;
  }

  return (
    <div class="shell">
      <header class="top">
        <span class="brand">alpr-edge</span>
        <nav>
          {allowed.map((p) => (
            <a key={p.path} href={`/console/${p.path}`} class={p.path === section || (section === 'reads' && p.path === 'search') ? 'active' : ''}
              onClick={(e) => { e.preventDefault(); navigate(p.path); }}>{p.title}</a>
          ))}
        </nav>
        <span class="who" data-testid="who">{me.username} · {me.role}</span>
        <button type="button" class="link" onClick={() => signOut('signed out')}>Sign out</button>
      </header>
      <main>
        {section === 'live' && <LivePage />}
        {section === 'health' && <HealthPage selftest={me.role !== 'investigator'} />}
        {section === 'search' && <SearchPage me={me} inquiry={inquiry} setInquiry={setInquiry} openRead={(id) => navigate(`reads/${id}`)} />}
        {section === 'reads' && <ReadPage id={rest[0] ?? ''} inquiry={inquiry} setInquiry={setInquiry} back={() => navigate('search')} />}
        {section === 'admin' && <AdminPage me={me} />}
        {section === 'hotlist' && <HotListPage me={me} />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
