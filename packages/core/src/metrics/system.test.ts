import { describe, expect, it } from 'vitest';
import { gpusOf, memAvailableOf, netBytesOf, SystemSampler } from './system.js';

describe("the machine's figures", () => {
  it('reads MemAvailable from /proc/meminfo', () => {
    expect(memAvailableOf('MemTotal:       16384 kB\nMemFree:  1 kB\nMemAvailable:    8192 kB\n')).toBe(8192 * 1024);
    expect(memAvailableOf('MemTotal: 1 kB\n')).toBeUndefined();
  });

  it('sums /proc/net/dev over interfaces but loopback', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0',
      '  eth0: 5000      50    0    0    0     0          0         0     7000      70    0    0    0     0       0          0',
      '  eth1:  100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0',
    ].join('\n');
    expect(netBytesOf(text)).toEqual({ received: 5100, sent: 7200 });
  });

  it("parses nvidia-smi's CSV", () => {
    expect(gpusOf('0, NVIDIA H100 80GB HBM3, 37, 1024, 81559\n1, NVIDIA H100 80GB HBM3, 0, 0, 81559\n')).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', utilization: 37, memUsed: 1024 * 2 ** 20, memTotal: 81559 * 2 ** 20 },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', utilization: 0, memUsed: 0, memTotal: 81559 * 2 ** 20 },
    ]);
    expect(gpusOf('No devices were found\n')).toEqual([]);
  });

  it('samples this machine within bounds', () => {
    const s = new SystemSampler();
    s.sample();
    const b = s.sample();
    expect(b.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(b.cpuPercent).toBeLessThanOrEqual(100);
    expect(b.memTotal).toBeGreaterThan(0);
    expect(b.memUsed).toBeGreaterThan(0);
    expect(b.memUsed).toBeLessThanOrEqual(b.memTotal);
    expect(b.netSendSpeed).toBeGreaterThanOrEqual(0);
  });
});
