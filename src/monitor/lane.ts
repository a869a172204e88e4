/**
 * A bounded, serial task queue: tasks run one at a time in order (an apfmon server must see the
 * factory registration before the labels, and the labels before the jobs), pushing never waits,
 * and a full queue refuses new tasks instead of growing without limit while a server hangs.
 */

/** A queued task; `signal` aborts when the lane is aborted. */
export type LaneTask = (signal: AbortSignal) => Promise<void>;

/** One serial lane. */
export class Lane {
  readonly #capacity: number;
  readonly #tasks: LaneTask[] = [];
  #running = false;
  #controller = new AbortController();
  #idleWaiters: Array<() => void> = [];

  /** @param capacity - most tasks waiting (the running one not counted). */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Tasks waiting (not counting the one running). */
  get size(): number {
    return this.#tasks.length;
  }

  /** True while a task runs or waits. */
  get busy(): boolean {
    return this.#running || this.#tasks.length > 0;
  }

  /** Queues `task`; false (task dropped) when the lane is full. Never waits, never throws. */
  push(task: LaneTask): boolean {
    if (this.#tasks.length >= this.#capacity) return false;
    this.#tasks.push(task);
    if (!this.#running) {
      this.#running = true;
      // Started on the next tick: push() returns before any task code runs.
      setImmediate(() => void this.#pump());
    }
    return true;
  }

  async #pump(): Promise<void> {
    for (let task = this.#tasks.shift(); task !== undefined; task = this.#tasks.shift()) {
      try {
        await task(this.#controller.signal);
      } catch {
        // Tasks report their own failures; a throw must not stop the lane.
      }
    }
    this.#running = false;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing runs or waits. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Aborts the running task and drops the waiting ones; returns how many were dropped. */
  abort(): number {
    const dropped = this.#tasks.length;
    this.#tasks.length = 0;
    this.#controller.abort();
    this.#controller = new AbortController();
    return dropped;
  }
}
