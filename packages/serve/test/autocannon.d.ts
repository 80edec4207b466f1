// The parts of autocannon (no published types) the tests use.
declare module 'autocannon' {
  interface Result {
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    setupClient?: (client: { on(event: 'body', f: (b: Buffer) => void): void }) => void;
  }
  interface Instance extends Promise<Result> {
    on(event: string, f: (...args: unknown[]) => void): void;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}
