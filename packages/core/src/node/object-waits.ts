/**
 * get() and wait() on a node: resolve when objects are ready (and, on a multi-node cluster, when
 * their bytes are here), with timeouts. A task that waits lends its CPUs out meanwhile.
 */
import { GetTimeoutError, ObjectLostError } from '../errors.js';
import type { StoredValue } from '../runtime/serialization.js';
import type { NodeContext } from './context.js';
import { ignored } from '../log.js';
import { errorValue } from './failures.js';

/** Lends a waiting task's CPUs out while it waits (see WorkerSlots). */
export interface Blocking {
  block(taskId: string | undefined): unknown;
  unblock(token: unknown): void;
}

export class ObjectWaits {
  constructor(
    private readonly ctx: NodeContext,
    private readonly blocking: Blocking,
  ) {}

  /** Resolves when all `idsToGet` are ready, with their values (a lost object reads as ObjectLostError). */
  getValues(idsToGet: string[], timeoutMs: number | undefined, blockedTaskId?: string): Promise<StoredValue[]> {
    if (this.ctx.cluster) {
      if (idsToGet.some((id) => this.ctx.store.has(id) && !this.ctx.store.isLocal(id)))
        return this.getRemote(idsToGet, timeoutMs, blockedTaskId);
    }
    const notReady = idsToGet.filter((id) => this.ctx.store.has(id) && !this.ctx.store.isReady(id));
    if (notReady.length === 0) return Promise.resolve(idsToGet.map((id) => this.valueOf(id)));
    return new Promise((resolve, reject) => {
      let left = notReady.length;
      const blocked = this.blocking.block(blockedTaskId);
      this.ctx.busy(1);
      let timer: NodeJS.Timeout | undefined;
      const cancels: (() => void)[] = [];
      const done = () => {
        if (timer) clearTimeout(timer);
        this.blocking.unblock(blocked);
        this.ctx.busy(-1);
      };
      for (const id of notReady) {
        cancels.push(
          this.ctx.store.onReady(id, () => {
            if (--left === 0) {
              done();
              resolve(idsToGet.map((i) => this.valueOf(i)));
            }
          }),
        );
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          for (const c of cancels) c();
          done();
          const still = idsToGet.filter((id) => this.ctx.store.has(id) && !this.ctx.store.isReady(id));
          reject(
            new GetTimeoutError(
              `get() timed out after ${timeoutMs} ms: ${still.length} of ${idsToGet.length} objects not ready ` +
                `(${still.slice(0, 3).join(', ')}${still.length > 3 ? ', ...' : ''}).`,
              { objectId: still[0] },
            ),
          );
        }, timeoutMs);
      }
    });
  }

  /** get() of objects whose bytes are elsewhere or not made yet (multi-node): wait, pull, read. */
  private async getRemote(
    idsToGet: string[],
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<StoredValue[]> {
    const blocked = this.blocking.block(blockedTaskId);
    this.ctx.busy(1);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    try {
      // Owned objects still pending here: wait until their task finishes (maybe elsewhere).
      const pending = idsToGet.filter((id) => this.ctx.store.has(id) && !this.ctx.store.isReady(id));
      if (pending.length) {
        await this.waitForReady(pending, deadline);
      }
      const fetch = idsToGet.filter((id) => this.ctx.store.has(id) && !this.ctx.store.isLocal(id));
      let timer: NodeJS.Timeout | undefined;
      const pulls = this.ctx.cluster!.peers.pull(fetch);
      if (deadline !== undefined) {
        await Promise.race([
          pulls,
          new Promise<void>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new GetTimeoutError(
                    `get() timed out after ${timeoutMs} ms: ${fetch.length} objects are still being fetched from other nodes (${fetch.slice(0, 3).join(', ')}).`,
                    { objectId: fetch[0] },
                  ),
                ),
              Math.max(0, deadline - Date.now()),
            );
          }),
        ]).finally(() => clearTimeout(timer));
      } else await pulls;
      return idsToGet.map((id) => this.valueOf(id));
    } finally {
      this.blocking.unblock(blocked);
      this.ctx.busy(-1);
    }
  }

  private waitForReady(idsToWait: string[], deadline: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      let left = idsToWait.length;
      const cancels: (() => void)[] = [];
      let timer: NodeJS.Timeout | undefined;
      for (const id of idsToWait) {
        cancels.push(
          this.ctx.store.onReady(id, () => {
            if (--left === 0) {
              if (timer) clearTimeout(timer);
              resolve();
            }
          }),
        );
      }
      if (deadline !== undefined && left > 0) {
        timer = setTimeout(
          () => {
            for (const c of cancels) c();
            const still = idsToWait.filter((id) => this.ctx.store.has(id) && !this.ctx.store.isReady(id));
            reject(
              new GetTimeoutError(
                `get() timed out: ${still.length} of ${idsToWait.length} objects not ready (${still.slice(0, 3).join(', ')}).`,
                { objectId: still[0] },
              ),
            );
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  private valueOf(id: string): StoredValue {
    const v = this.ctx.store.get(id);
    if (v) return v;
    if (this.ctx.stopped) {
      return errorValue(
        new ObjectLostError(`Object ${id} is gone: shutdown() stopped the cluster before it was ready.`, {
          objectId: id,
          nodeId: this.ctx.nodeId,
        }),
      );
    }
    return errorValue(
      new ObjectLostError(
        `Object ${id} is lost: it was freed because no reference to it was left, or it never existed in this cluster.`,
        { objectId: id, nodeId: this.ctx.nodeId },
      ),
    );
  }

  waitValues(
    idsToWait: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]> {
    if (this.ctx.cluster) return this.waitLocal(idsToWait, numReturns, timeoutMs, blockedTaskId);
    const ready = () => idsToWait.filter((id) => !this.ctx.store.has(id) || this.ctx.store.isReady(id));
    const now = ready();
    if (now.length >= numReturns || timeoutMs === 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const blocked = this.blocking.block(blockedTaskId);
      this.ctx.busy(1);
      let count = now.length;
      let finished = false;
      const cancels: (() => void)[] = [];
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        for (const c of cancels) c();
        if (timer) clearTimeout(timer);
        this.blocking.unblock(blocked);
        this.ctx.busy(-1);
        resolve(ready());
      };
      for (const id of idsToWait) {
        if (this.ctx.store.has(id) && !this.ctx.store.isReady(id)) {
          cancels.push(
            this.ctx.store.onReady(id, () => {
              if (++count >= numReturns) queueMicrotask(finish);
            }),
          );
        }
      }
      if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
    });
  }

  /** Resolves once the object's bytes are here (or it is known lost): waits, then pulls. */
  private whenLocal(id: string): Promise<void> {
    if (!this.ctx.store.has(id) || this.ctx.store.isLocal(id)) return Promise.resolve();
    if (!this.ctx.store.isReady(id))
      return new Promise<void>((r) => this.ctx.store.onReady(id, r)).then(() => this.whenLocal(id));
    // A failed pull leaves the object not local: wait() reports it not ready, and get() says why.
    return this.ctx.cluster!.peers.pull([id]).catch(ignored(`pull of ${id} for wait()`));
  }

  /**
   * wait() on a multi-node cluster: an object counts as ready once its bytes are on this node
   * (Ray's fetch_local), so a borrowed ref is ready only when its owner has the value.
   */
  private waitLocal(
    idsToWait: string[],
    numReturns: number,
    timeoutMs: number | undefined,
    blockedTaskId?: string,
  ): Promise<string[]> {
    const ready = () => idsToWait.filter((id) => !this.ctx.store.has(id) || this.ctx.store.isLocal(id));
    const now = ready();
    if (now.length >= numReturns || timeoutMs === 0) {
      // Not waited for, but fetched meanwhile (as Ray's wait does).
      for (const id of idsToWait) if (!now.includes(id)) void this.whenLocal(id);
      return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      const blocked = this.blocking.block(blockedTaskId);
      this.ctx.busy(1);
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        this.blocking.unblock(blocked);
        this.ctx.busy(-1);
        resolve(ready());
      };
      for (const id of idsToWait) {
        if (now.includes(id)) continue;
        void this.whenLocal(id).then(() => {
          if (!finished && ready().length >= numReturns) finish();
        });
      }
      if (timeoutMs !== undefined) timer = setTimeout(finish, timeoutMs);
    });
  }
}
