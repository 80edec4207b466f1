import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { nodeAddresses, routableAddressTo } from './node-address.js';

describe('node addresses', () => {
  it('routes to a loopback head from loopback', async () => {
    expect(await routableAddressTo('127.0.0.1')).toBe('127.0.0.1');
    expect(await routableAddressTo('localhost')).toBe('127.0.0.1');
  });

  it('a head given nothing stays on loopback; given a host it binds and advertises it', async () => {
    expect(await nodeAddresses({})).toEqual({ bind: '127.0.0.1', advertise: '127.0.0.1' });
    expect(await nodeAddresses({ host: '10.1.2.3' })).toEqual({ bind: '10.1.2.3', advertise: '10.1.2.3' });
  });

  it('a node joining a loopback head binds and advertises loopback', async () => {
    expect(await nodeAddresses({ gcsAddress: '127.0.0.1:6380' })).toEqual({
      bind: '127.0.0.1',
      advertise: '127.0.0.1',
    });
  });

  it('binds every interface with 0.0.0.0 and still advertises a real address', async () => {
    const a = await nodeAddresses({ host: '0.0.0.0', gcsAddress: '127.0.0.1:6380' });
    expect(a).toEqual({ bind: '0.0.0.0', advertise: '127.0.0.1' });
    const b = await nodeAddresses({ host: '0.0.0.0', nodeIpAddress: '10.9.8.7' });
    expect(b).toEqual({ bind: '0.0.0.0', advertise: '10.9.8.7' });
    const head = await nodeAddresses({ host: '0.0.0.0' });
    expect(head.bind).toBe('0.0.0.0');
    expect(head.advertise).not.toBe('0.0.0.0');
  });

  it('an explicit node IP address wins, and binds there unless a host is given', async () => {
    expect(await nodeAddresses({ nodeIpAddress: '10.0.0.5', gcsAddress: '127.0.0.1:1' })).toEqual({
      bind: '10.0.0.5',
      advertise: '10.0.0.5',
    });
  });

  it('refuses 0.0.0.0 as the address to advertise, saying to use host instead', async () => {
    await expect(nodeAddresses({ nodeIpAddress: '0.0.0.0' })).rejects.toThrow(InvalidArgumentError);
    await expect(nodeAddresses({ nodeIpAddress: '0.0.0.0' })).rejects.toThrow(/pass host '0\.0\.0\.0' instead/);
  });
});
