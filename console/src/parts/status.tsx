import { type ApiError } from '../api';

export function Problem({ error }: { error: ApiError | Error }) {
  return (
    <p class="problem" role="alert">
      {error.message}
      {'status' in error && error.status === 401 ? (
        <>
          {' '}
          <a href="/admin/login">Sign in</a>
        </>
      ) : null}
    </p>
  );
}

function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

/** The page's data, its error, or a loading line: what every page shows before its content. */
export function Pending({ error, loading }: { error?: ApiError | undefined; loading: boolean }) {
  if (error) return <Problem error={error} />;
  return loading ? <Loading /> : null;
}
