import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** A status word as a coloured badge (the colour is never the only cue: the word is shown). */
export function Status({ value }: { value: string }) {
  return <span class={`badge status-${value}`}>{value}</span>;
}

/** Result of the last action, announced to screen readers. */
export interface Notice {
  kind: 'ok' | 'error';
  text: string;
}

export function NoticeBar({ notice }: { notice: Notice | null }) {
  return (
    <div class="notice-area" aria-live="polite" role="status">
      {notice ? <p class={`notice notice-${notice.kind}`}>{notice.text}</p> : null}
    </div>
  );
}

/** Runs an action, tracks busy state and reports the outcome as a notice. */
export function useAction(): {
  busy: boolean;
  notice: Notice | null;
  run: (label: string, action: () => Promise<unknown>, ok?: string) => Promise<boolean>;
  setNotice: (n: Notice | null) => void;
} {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const run = useCallback(async (label: string, action: () => Promise<unknown>, ok?: string) => {
    setBusy(true);
    try {
      await action();
      setNotice({ kind: 'ok', text: ok ?? `${label}: done.` });
      return true;
    } catch (error) {
      const text = error instanceof ApiError ? error.message : String((error as Error)?.message ?? error);
      setNotice({ kind: 'error', text: `${label} failed: ${text}` });
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, notice, run, setNotice };
}

/** Loads data whenever `deps` change; keeps the last value while reloading. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const ticket = ++latest.current;
    load().then(
      (value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setError(null);
      },
      (e: unknown) => {
        if (ticket !== latest.current) return;
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, [...deps, nonce]);
  return { data, error, reload: () => setNonce((n) => n + 1) };
}

export function Section(props: {
  title: string;
  id?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card" aria-labelledby={props.id ? `${props.id}-title` : undefined}>
      <div class="card-head">
        <h2 id={props.id ? `${props.id}-title` : undefined}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function LoadError({ error }: { error: string | null }) {
  return error ? (
    <p class="notice notice-error" role="alert">
      Could not load: {error}
    </p>
  ) : null;
}

/** Previous / next paging with the range shown. */
export function Pager(props: { skip: number; take: number; total: number; onPage: (skip: number) => void }) {
  const { skip, take, total } = props;
  const last = Math.min(total, skip + take);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={skip === 0} onClick={() => props.onPage(Math.max(0, skip - take))}>
        ← Previous
      </button>
      <span aria-live="polite">{total === 0 ? 'Nothing to show' : `${skip + 1}–${last} of ${total}`}</span>
      <button type="button" disabled={last >= total} onClick={() => props.onPage(skip + take)}>
        Next →
      </button>
    </nav>
  );
}
