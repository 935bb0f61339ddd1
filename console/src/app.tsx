import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, setCsrfToken, signOut } from './api';
import { Pending, Problem } from './parts/status';
import { useApi } from './parts/use-api';
import { ROUTES, routeOf } from './routes';
import { type Session } from './types';

export function App() {
  const session = useApi<Session>('/admin/api/session');
  const [signedOut, setSignedOut] = useState(false);
  if (signedOut) return <SignedOut />;
  if (!session.data) {
    return (
      <main id="main" class="page narrow">
        <h1>viewgate console</h1>
        <Pending error={session.error} loading={session.loading} />
      </main>
    );
  }
  setCsrfToken(session.data.csrfToken);
  return <Shell session={session.data} onSignedOut={() => setSignedOut(true)} />;
}

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const [hash, setHash] = useState(location.hash);
  const [problem, setProblem] = useState<ApiError>();
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    const follow = () => setHash(location.hash);
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  const route = routeOf(hash);
  useEffect(() => {
    document.title = `${route.title} · viewgate console`;
  }, [route]);

  async function leave() {
    try {
      await signOut();
      onSignedOut();
    } catch (err) {
      setProblem(err as ApiError);
    }
  }

  const Page = route.page;
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">viewgate console</span>
        <nav aria-label="Pages">
          <ul>
            {ROUTES.map((r) => (
              <li key={r.path}>
                <a href={`#/${r.path}`} aria-current={r === route ? 'page' : undefined}>
                  {r.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" title={session.roles.join(', ')}>
          {session.name ?? session.subject}
        </span>
        <button type="button" onClick={() => void leave()}>
          Sign out
        </button>
      </header>
      <main id="main" class="page" ref={main} tabIndex={-1}>
        {problem && <Problem error={problem} />}
        <Page />
      </main>
    </>
  );
}

function SignedOut() {
  return (
    <main id="main" class="page narrow">
      <h1>Signed out</h1>
      <p>Your console session has ended.</p>
      <p>
        <a href="/admin/login">Sign in again</a>
      </p>
    </main>
  );
}
