// A bounded work queue and an actor pool (run with: node --import tsx examples/work-queue.ts).
// A producer task streams jobs into a Queue of 4 slots (it waits whenever the queue is full);
// two consumer tasks drain it. Then an ActorPool of 2 stateful actors counts primes in ranges,
// with results in the order of the ranges.
import { ActorPool, Queue, get, init, remote, shutdown } from '@ray-ts/core';

await init({ numCpus: 2 });

const queue = new Queue<number | null>(4);

const producer = remote(async (q: Queue<number | null>, jobs: number, consumers: number) => {
  for (let i = 1; i <= jobs; i++) await q.put(i);
  for (let c = 0; c < consumers; c++) await q.put(null); // one end marker per consumer
  return jobs;
});

const consumer = remote(async (q: Queue<number | null>) => {
  let sum = 0;
  for (let job = await q.get(); job !== null; job = await q.get()) sum += job * job;
  return sum;
});

const sums = [consumer.remote(queue), consumer.remote(queue)];
await get(producer.remote(queue, 100, 2));
const total = (await get(sums)).reduce((a, b) => a + b, 0);
console.log(`queue: sum of squares 1..100 = ${total}`);
await queue.shutdown();

class PrimeCounter {
  checked = 0;
  count(from: number, to: number): number {
    let n = 0;
    for (let x = Math.max(2, from); x < to; x++) {
      let prime = true;
      for (let d = 2; d * d <= x; d++)
        if (x % d === 0) {
          prime = false;
          break;
        }
      if (prime) n++;
    }
    this.checked += to - from;
    return n;
  }
}
const Counter = remote(PrimeCounter);
const pool = new ActorPool([Counter.remote(), Counter.remote()]);
const ranges = Array.from({ length: 8 }, (_, i) => [i * 12_500, (i + 1) * 12_500] as const);
const perRange: number[] = [];
for await (const n of pool.map((a, [from, to]) => a.count.remote(from, to), ranges)) perRange.push(n);
console.log(`pool: primes below 100000 = ${perRange.reduce((a, b) => a + b, 0)} (per range: ${perRange.join(' ')})`);
await shutdown();
