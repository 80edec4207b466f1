import { expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from './crc32c.js';

it('computes CRC-32C on the standard check values (RFC 3720 B.4, the "123456789" check)', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  expect(crc32c(new Uint8Array(0))).toBe(0);
});

it("masks as TFRecord does (values from TensorBoard's own masked_crc32c)", () => {
  expect(maskedCrc32c(Buffer.from('123456789'))).toBe(0xc78ab0e5);
  // The 8-byte little-endian lengths 0 and 24, as a record's header is framed.
  expect(maskedCrc32c(new Uint8Array(8))).toBe(0x07980329);
  expect(maskedCrc32c(Uint8Array.of(24, 0, 0, 0, 0, 0, 0, 0))).toBe(0x224b7fa3);
});
