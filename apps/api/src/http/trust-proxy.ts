import { isIP } from 'node:net';

/** Express's `trust proxy` value: off, a hop count, or the addresses/subnets of the proxies. */
export type TrustProxy = false | number | string[];

const PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrSubnet(item: string): boolean {
  if (PRESETS.has(item)) return true;
  const [address, bits, ...rest] = item.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const max = version === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * Parses TRUST_PROXY as Express's `trust proxy` reads it, minus `true`: trusting every hop would
 * let any client choose its address with X-Forwarded-For and so its rate-limit bucket. Returns
 * null when the value is not valid (config.ts names the variable).
 */
export function parseTrustProxy(value: string | undefined): TrustProxy | null {
  if (value === undefined || value === 'false') return false;
  if (/^\d{1,2}$/.test(value)) return Number(value) === 0 ? false : Number(value);
  const items = value.split(',').map((item) => item.trim());
  return items.length > 0 && items.every(isAddressOrSubnet) ? items : null;
}
