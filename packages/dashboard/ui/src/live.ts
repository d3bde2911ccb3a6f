// One EventSource for the whole page: run and step events from every replica, deduplicated by
// sequence, fanned out to the pages that listen.
import { useEffect, useRef, useState } from 'preact/hooks';
import { BASE, type LiveEvent } from './api.js';

type Listener = (event: LiveEvent) => void;
type State = 'connecting' | 'live' | 'offline';

const listeners = new Set<Listener>();
const stateListeners = new Set<(state: State) => void>();
const seen = new Set<number>();
let source: EventSource | null = null;
let state: State = 'connecting';

function setState(next: State): void {
  state = next;
  for (const l of stateListeners) l(next);
}

function connect(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource(`${BASE}/api/events/stream`);
  source.addEventListener('ready', () => setState('live'));
  source.onopen = () => setState('live');
  source.onerror = () => setState(source?.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  source.onmessage = (message) => {
    let event: LiveEvent;
    try {
      event = JSON.parse(message.data) as LiveEvent;
    } catch {
      return;
    }
    // A resumed stream may repeat events near its resume point.
    if (seen.has(event.sequence)) return;
    seen.add(event.sequence);
    if (seen.size > 5_000) seen.delete(seen.values().next().value as number);
    for (const l of listeners) l(event);
  };
}

/** Calls `onEvent` for each live event (optionally only of one run) while mounted. */
export function useLiveEvents(onEvent: Listener, runId?: string): void {
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => {
    connect();
    const listener: Listener = (e) => {
      if (runId === undefined || e.runId === runId) ref.current(e);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, [runId]);
}

/** Bumps a counter (debounced) whenever a relevant live event arrives: a reload trigger. */
export function useLiveTick(runId?: string, delayMs = 300): number {
  const [tick, setTick] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      setTick((t) => t + 1);
    }, delayMs);
  }, runId);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return tick;
}

/** The connection state of the live stream. */
export function useLiveState(): State {
  const [current, setCurrent] = useState<State>(state);
  useEffect(() => {
    connect();
    stateListeners.add(setCurrent);
    setCurrent(state);
    return () => {
      stateListeners.delete(setCurrent);
    };
  }, []);
  return current;
}
