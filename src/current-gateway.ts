// The gateway the surfaces hold for the life of the server: every property read and method call
// goes to the gateway of the runtime's current state (src/reload.ts swaps states), so a request
// started under one config finishes under it, and the next one starts under the newest. Each
// call's promise is counted against its state, so a reload can close what it replaced (pools of
// removed sources) once those calls are done.
import type { Gateway } from './gateway/gateway.js';

/** Unfinished calls on one state's gateway. */
export class InFlight {
  private running = 0;
  private waiters: (() => void)[] = [];

  track<T>(work: Promise<T>): Promise<T> {
    this.running++;
    const done = () => {
      if (--this.running === 0) for (const w of this.waiters.splice(0)) w();
    };
    work.then(done, done);
    return work;
  }

  /** Resolves when no call is running, or after `maxMs` (true: they all finished). */
  idle(maxMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), maxMs);
      timer.unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

export function currentGateway(current: () => { gateway: Gateway; inFlight: InFlight }): Gateway {
  // Each state's methods, wrapped once rather than in a closure per call. A state's gateway and
  // in-flight count are made together (src/runtime.ts), so the gateway names the state.
  const wrapped = new WeakMap<Gateway, Map<PropertyKey, { method: unknown; call: (...args: unknown[]) => unknown }>>();
  return new Proxy({} as Gateway, {
    get(_target, prop) {
      const { gateway, inFlight } = current();
      const value: unknown = Reflect.get(gateway, prop, gateway);
      if (typeof value !== 'function') return value;
      let methods = wrapped.get(gateway);
      if (!methods) wrapped.set(gateway, (methods = new Map()));
      const known = methods.get(prop);
      // A method replaced on the gateway (a test's stub) is wrapped afresh.
      if (known?.method === value) return known.call;
      const call = (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(gateway, args);
        return out instanceof Promise ? inFlight.track(out) : out;
      };
      methods.set(prop, { method: value, call });
      return call;
    },
    set: (_target, prop, value) => Reflect.set(current().gateway, prop, value),
  });
}
