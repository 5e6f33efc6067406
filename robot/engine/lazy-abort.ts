/**
 * An AbortController that builds the real one only when someone asks for its signal. Node's
 * AbortController costs more than a no-op job's whole run, and most aborts never happen.
 */
export class LazyAbortController {
  private controller?: AbortController;
  private abortedWith?: { reason: unknown };

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}

/** A real signal, or a lazy controller standing in for one. */
export type RunSignal = AbortSignal | LazyAbortController;

export function signalOf(s: RunSignal): AbortSignal {
  return s instanceof LazyAbortController ? s.signal : s;
}
