// The chaos soak's book of operations: each one runs under a watchdog and ends in one of three
// ways: ok (its answer checked), a typed failure (a RayError, counted by name), or a violation
// (a wrong answer, an untyped error, or no answer by its deadline: a hang).

/** A failure that is not a thrown RayError but names one (an HTTP error answer of Serve's proxy). */
export class NamedFailure extends Error {
  /**
   * @param {string} name what it is counted as, e.g. `HTTP 502 ReplicaDiedError`
   * @param {boolean} typed whether it names a RayError subclass
   */
  constructor(name, typed, message) {
    super(message);
    this.failureName = name;
    this.typed = typed;
  }
}

export class Ledger {
  /**
   * @param {{ isTyped: (err: unknown) => boolean, log: (line: string) => void }} opts
   */
  constructor({ isTyped, log }) {
    this.isTyped = isTyped;
    this.log = log;
    /** kind -> { ok, failed, violations } */
    this.kinds = new Map();
    /** error name -> count (typed failures and untyped errors alike) */
    this.errors = new Map();
    this.violations = [];
    /** id -> { kind, what, startedAt, deadlineMs } */
    this.pending = new Map();
    this.nextId = 0;
  }

  count(kind, field) {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { ok: 0, failed: 0, violations: 0 }));
    k[field]++;
  }

  violation(kind, what, why) {
    this.count(kind, 'violations');
    this.violations.push({ kind, what, why, at: new Date().toISOString() });
    this.log(`VIOLATION ${kind} ${what}: ${why}`);
  }

  /**
   * Runs `fn` under a watchdog of `deadlineMs`, then `check(value)` (a string says what is wrong).
   * Resolves `{ ok: true, value }` or `{ ok: false }`, at the latest at the deadline (a hang: the
   * operation is reported, and stays listed as pending until it ends); never rejects. With
   * `mustSucceed`, even a typed failure is a violation (the final checks of acknowledged writes);
   * `onHang()` resolves to what is known about a hung operation (printed).
   */
  op(kind, what, fn, { deadlineMs, check = () => undefined, mustSucceed = false, onHang }) {
    const id = this.nextId++;
    const startedAt = Date.now();
    this.pending.set(id, { kind, what, startedAt, deadlineMs });
    let hung = false;
    let timer;
    const watchdog = new Promise((resolve) => {
      timer = setTimeout(() => {
        hung = true;
        this.violation(kind, what, `no answer after ${deadlineMs} ms (a hang)`);
        // What the cluster says about it (the state API), for the report.
        onHang?.().then(
          (facts) => this.log(`  ${kind} ${what} hung: ${facts}`),
          (err) => this.log(`  ${kind} ${what} hung; no more is known: ${err.message}`),
        );
        resolve({ ok: false, hung: true });
      }, deadlineMs);
    });
    const done = this.settle(kind, what, fn, { check, mustSucceed, hung: () => hung, startedAt }).finally(() => {
      clearTimeout(timer);
      this.pending.delete(id);
    });
    return Promise.race([done, watchdog]);
  }

  async settle(kind, what, fn, { check, mustSucceed, hung, startedAt }) {
    try {
      const value = await fn();
      if (hung()) {
        this.log(`(late) ${kind} ${what} answered after ${Date.now() - startedAt} ms`);
        return { ok: false };
      }
      const wrong = check(value);
      if (wrong) {
        this.violation(kind, what, `wrong answer: ${wrong}`);
        return { ok: false };
      }
      this.count(kind, 'ok');
      return { ok: true, value };
    } catch (err) {
      const name = err instanceof NamedFailure ? err.failureName : (err?.name ?? typeof err);
      this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
      if (hung()) {
        this.log(`(late) ${kind} ${what} failed after ${Date.now() - startedAt} ms with ${name}: ${err?.message}`);
        return { ok: false };
      }
      const typed = err instanceof NamedFailure ? err.typed : this.isTyped(err);
      if (typed && mustSucceed)
        this.violation(kind, what, `failed with ${name}: ${String(err?.message).split('\n')[0]}`);
      else if (typed) this.count(kind, 'failed');
      else this.violation(kind, what, `untyped error ${name}: ${String(err?.message ?? err).split('\n')[0]}`);
      return { ok: false, error: err };
    }
  }

  /** Operations still waiting for an answer (with how long they have waited). */
  stillPending() {
    const now = Date.now();
    return [...this.pending.values()].map((p) => ({ ...p, waitedMs: now - p.startedAt }));
  }

  totals() {
    let ok = 0;
    let failed = 0;
    for (const k of this.kinds.values()) {
      ok += k.ok;
      failed += k.failed;
    }
    return { ok, failed, violations: this.violations.length };
  }
}
